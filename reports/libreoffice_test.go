package reports_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// libreOffice returns soffice and a profile directory in which LibreOffice
// recalculates every formula of an .xlsx file on load; it skips the test
// without LibreOffice (Debian: libreoffice-calc).
func libreOffice(t *testing.T) (soffice, profile string) {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("LibreOffice (soffice) not installed; Debian: apt-get install libreoffice-calc")
	}
	profile = t.TempDir()
	user := filepath.Join(profile, "user")
	if err := os.MkdirAll(user, 0o755); err != nil {
		t.Fatal(err)
	}
	// OOXMLRecalcMode 0: always recalculate files from Excel on load.
	const xcu = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
`
	if err := os.WriteFile(filepath.Join(user, "registrymodifications.xcu"), []byte(xcu), 0o644); err != nil {
		t.Fatal(err)
	}
	return soffice, profile
}

// convert runs LibreOffice headless on in, writing into dir.
func convert(t *testing.T, soffice, profile, to, in, dir string) {
	t.Helper()
	cmd := exec.Command(soffice, "--headless", "--norestore", "-env:UserInstallation=file://"+profile,
		"--convert-to", to, "--outdir", dir, in)
	cmd.Env = append(os.Environ(), "HOME="+profile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
}

// TestLibreOfficeRecalculates opens the workbook in LibreOffice, which
// recalculates every formula itself, after changing one order's gross
// price: the Summary's totals LibreOffice computes are the warehouse's
// (DuckDB's), plus the change where the change belongs. So the formulas,
// not only their cached values, add up the detail rows.
func TestLibreOfficeRecalculates(t *testing.T) {
	soffice, profile := libreOffice(t)
	fx := sandboxWarehouse(t)
	want := recompute(t, fx)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: fx.month, RunID: "lo", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Add 1000 to the gross of the first sale on the Orders sheet.
	f, err := excelize.OpenFile(rep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(reports.SheetOrders, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	var changedCur string
	for i, r := range rows[1:] {
		if r[2] == "COMPLETE" {
			changedCur = r[3]
			g, _ := new(big.Rat).SetString(r[5])
			g.Add(g, big.NewRat(1000, 1))
			v, _ := g.Float64()
			if err := f.SetCellValue(reports.SheetOrders, fmt.Sprintf("F%d", i+2), v); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	dir := t.TempDir()
	in := filepath.Join(dir, "report.xlsx")
	if err := os.Rename(rep.Workbook, in); err != nil {
		t.Fatal(err)
	}
	// Every sheet to CSV, raw values (not as shown), UTF-8.
	convert(t, soffice, profile, `csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1`, in, dir)
	fh, err := os.Open(filepath.Join(dir, "report-Summary.csv"))
	if err != nil {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("%v (dir holds %v)", err, entries)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	got := map[string]map[string]string{}
	for _, rec := range recs {
		if len(rec) == 0 {
			continue
		}
		switch {
		case rec[0] == "By currency":
			header = rec
		case rec[0] == "Total chargeback fee":
			got[rec[0]] = map[string]string{"*": rec[1]}
		case header != nil && rec[0] != "":
			got[rec[0]] = map[string]string{}
			for i := 1; i < len(rec) && i < len(header); i++ {
				got[rec[0]][header[i]] = rec[i]
			}
		}
	}
	near := func(a, b string) bool {
		x, ok1 := new(big.Rat).SetString(strings.TrimSpace(a))
		y, ok2 := new(big.Rat).SetString(b)
		if !ok1 || !ok2 {
			return false
		}
		d := new(big.Rat).Sub(x, y)
		return d.Abs(d).Cmp(big.NewRat(1, 1_000_000)) <= 0
	}
	plus1000 := func(s string) string {
		x, _ := new(big.Rat).SetString(s)
		return x.Add(x, big.NewRat(1000, 1)).FloatString(6)
	}
	checks := map[string]func(c string, w *currencyWant) string{
		"Sales (orders with status COMPLETE or REFUND)": func(_ string, w *currencyWant) string { return fmt.Sprint(w.Sales) },
		"Gross (incl. VAT, before discounts)": func(c string, w *currencyWant) string {
			if c == changedCur {
				return plus1000(w.Gross)
			}
			return w.Gross
		},
		"Chargebacks opened":         func(_ string, w *currencyWant) string { return fmt.Sprint(w.Disputes) },
		"Disputed amount":            func(_ string, w *currencyWant) string { return w.Disputed },
		"Total chargeback fee (USD)": func(_ string, w *currencyWant) string { return w.Fees },
	}
	for label, f := range revenueWants() {
		checks[label] = func(_ string, w *currencyWant) string { return f(w) }
	}
	for label, f := range checks {
		for c, w := range want.Currencies {
			if v := got[label][c]; !near(v, f(c, w)) {
				t.Errorf("LibreOffice computes %q %s = %q, want %s", label, c, v, f(c, w))
			}
		}
	}
	if v := got["Total chargeback fee"]["*"]; !near(v, want.Fees) {
		t.Errorf("LibreOffice computes Total chargeback fee %q, want %s", v, want.Fees)
	}
	if t.Failed() {
		t.Logf("Summary as LibreOffice computed it: %v", recs)
	}
}

// TestRenderSheets renders the Summary and the Chargeback fees sheets as
// LibreOffice prints them (headless, to PDF, each sheet alone with the
// others hidden so that the formulas still compute), and checks that the
// printed text is readable: the median height of a word on each page is at
// least 7 points (the workbook printed at about 4). pdftoppm (poppler-utils)
// turns the pages into the pictures in the README: with LEDGERLINE_SUMMARY_PNG
// or LEDGERLINE_FEES_PNG set, the test writes the sheet's pages there, one
// above the other.
func TestRenderSheets(t *testing.T) {
	soffice, profile := libreOffice(t)
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm not installed; Debian: apt-get install poppler-utils")
	}
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed; Debian: apt-get install poppler-utils")
	}
	fx := sandboxWarehouse(t)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: fx.month,
		RunID: "20250401T060003Z-5f1c2a9e", Dir: t.TempDir(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range []struct{ sheet, name, env string }{
		{reports.SheetSummary, "summary", "LEDGERLINE_SUMMARY_PNG"},
		{reports.SheetChargebackFees, "chargeback-fees", "LEDGERLINE_FEES_PNG"},
	} {
		t.Run(sh.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, sh.name+".xlsx")
			onlySheet(t, rep.Workbook, in, sh.sheet)
			convert(t, soffice, profile, "pdf", in, dir)
			pdf := filepath.Join(dir, sh.name+".pdf")
			pages := pdfPages(t, pdf)
			var pngs [][]byte
			for p := 1; p <= pages; p++ {
				if h := medianWordHeight(t, pdftotext, pdf, p); h < 7 {
					t.Errorf("%s page %d: words %.1f points high, want at least 7", sh.sheet, p, h)
				} else {
					t.Logf("%s page %d of %d: words %.1f points high", sh.sheet, p, pages, h)
				}
				out := filepath.Join(dir, fmt.Sprintf("page%d", p))
				if b, err := exec.Command(pdftoppm, "-png", "-r", "110", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), "-singlefile", pdf, out).CombinedOutput(); err != nil {
					t.Fatalf("pdftoppm: %v\n%s", err, b)
				}
				png, err := os.ReadFile(out + ".png")
				if err != nil {
					t.Fatal(err)
				}
				pngs = append(pngs, png)
			}
			png := stackPNG(t, pngs)
			if len(png) < 10_000 || string(png[1:4]) != "PNG" {
				t.Fatalf("%s.png: %d bytes", sh.name, len(png))
			}
			if dst := os.Getenv(sh.env); dst != "" {
				if err := os.WriteFile(dst, png, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", dst)
			}
		})
	}
}

// inked is the bounding box of img's pixels that are not white.
func inked(img image.Image) image.Rectangle {
	b := img.Bounds()
	box := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		return b
	}
	return box
}

// onlySheet copies the workbook src to dst with every sheet but sheet
// hidden, and sheet active: LibreOffice prints only visible sheets.
func onlySheet(t *testing.T, src, dst, sheet string) {
	t.Helper()
	f, err := excelize.OpenFile(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	idx, err := f.GetSheetIndex(sheet)
	if err != nil {
		t.Fatal(err)
	}
	f.SetActiveSheet(idx)
	for _, s := range f.GetSheetList() {
		if s != sheet {
			if err := f.SetSheetVisible(s, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(dst); err != nil {
		t.Fatal(err)
	}
}

// pdfPages counts the pages of a PDF by the form feeds that pdftotext
// ends each page with.
func pdfPages(t *testing.T, pdf string) int {
	t.Helper()
	out, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return max(strings.Count(string(out), "\f"), 1)
}

// medianWordHeight is the median height in points of the words' boxes on
// page p of pdf, as pdftotext -bbox gives them: about the font size.
func medianWordHeight(t *testing.T, pdftotext, pdf string, p int) float64 {
	t.Helper()
	out, err := exec.Command(pdftotext, "-bbox", "-f", fmt.Sprint(p), "-l", fmt.Sprint(p), pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	box := regexp.MustCompile(`<word xMin="[-0-9.]+" yMin="([-0-9.]+)" xMax="[-0-9.]+" yMax="([-0-9.]+)"`)
	var hs []float64
	for _, m := range box.FindAllStringSubmatch(string(out), -1) {
		y0, _ := strconv.ParseFloat(m[1], 64)
		y1, _ := strconv.ParseFloat(m[2], 64)
		hs = append(hs, y1-y0)
	}
	if len(hs) == 0 {
		t.Fatalf("%s page %d has no words", pdf, p)
	}
	slices.Sort(hs)
	return hs[len(hs)/2]
}

// stackPNG puts the pages one above the other, each cut to its printed
// area and a margin.
func stackPNG(t *testing.T, pngs [][]byte) []byte {
	t.Helper()
	var imgs []image.Image
	var rects []image.Rectangle
	w, h := 0, 0
	for _, b := range pngs {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r := inked(img).Inset(-24).Intersect(img.Bounds())
		imgs, rects = append(imgs, img), append(rects, r)
		w, h = max(w, r.Dx()), h+r.Dy()
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	y := 0
	for i, img := range imgs {
		r := rects[i]
		draw.Draw(out, image.Rect(0, y, r.Dx(), y+r.Dy()), img, r.Min, draw.Src)
		y += r.Dy()
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixedNow is the clock of a report run at 06:00 on 1 April 2025.
func fixedNow() time.Time { return time.Date(2025, 4, 1, 6, 0, 3, 0, time.UTC) }
