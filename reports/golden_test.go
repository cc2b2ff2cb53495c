package reports_test

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestWorkbookGolden pins the workbook of fixed inputs cell for cell: every
// cell's value, formula and style of every sheet, the sheets' layout (column
// widths, row heights, panes, page setup), the styles and defined names, and
// a digest of every part of the file, so that a change to the sheet writers
// that moves anything shows as a diff of testdata/workbook.golden. A change
// meant to alter the workbook regenerates it with
//
//	go test ./reports -run TestWorkbookGolden -update
//
// and the diff is reviewed with the change.
func TestWorkbookGolden(t *testing.T) {
	fx := sandboxWarehouse(t)
	fixed := fx.acct
	fixed.Name = "demo-fixed"
	fixed.ChargebackFees = config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.FromInt(40)}
	cases := []struct {
		name  string
		acct  config.Account
		month civil.Date
	}{
		{"march", fx.acct, fx.month},
		{"april-empty", fx.acct, civil.Date{Year: 2025, Month: 4, Day: 1}},
		{"march-fixed-fee", fixed, fx.month},
	}
	var out strings.Builder
	for _, c := range cases {
		rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: c.acct, Month: c.month,
			RunID: "golden", Dir: t.TempDir(), Now: func() time.Time { return time.Date(2025, 4, 1, 6, 0, 3, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "=== workbook %s\n", c.name)
		dumpWorkbook(t, &out, rep.Workbook)
	}
	golden := filepath.Join("testdata", "workbook.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		shown := 0
		for i := 0; i < max(len(gl), len(wl)) && shown < 20; i++ {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got  %s\n want %s", i+1, g, w)
				shown++
			}
		}
		t.Errorf("the workbook differs from %s (%d lines, want %d)", golden, len(gl), len(wl))
	}
}

// dumpWorkbook writes a line per fact of the workbook at path.
func dumpWorkbook(t *testing.T, w io.Writer, path string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	styles := map[int]bool{}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, sheet := range f.GetSheetList() {
		fmt.Fprintf(w, "--- sheet %s\n", sheet)
		dim, err := f.GetSheetDimension(sheet)
		check(err)
		panes, err := f.GetPanes(sheet)
		check(err)
		layout, err := f.GetPageLayout(sheet)
		check(err)
		props, err := f.GetSheetProps(sheet)
		check(err)
		view, err := f.GetSheetView(sheet, 0)
		check(err)
		merged, err := f.GetMergeCells(sheet)
		check(err)
		fmt.Fprintf(w, "dimension %s\npanes %s\nlayout %s\nprops %s\nview %s\nmerged %d\n",
			dim, jsonText(t, panes), jsonText(t, layout), jsonText(t, props), jsonText(t, view), len(merged))
		rows, err := f.GetRows(sheet)
		check(err)
		ncol := 0
		for _, r := range rows {
			ncol = max(ncol, len(r))
		}
		for c := 1; c <= ncol+2; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			wd, err := f.GetColWidth(sheet, name)
			check(err)
			fmt.Fprintf(w, "width %s %g\n", name, wd)
		}
		// The Orders sheet's rows are many: the first and last few are
		// shown, the others are in a digest.
		digest := sha256.New()
		for r := 1; r <= len(rows); r++ {
			w := w
			if sheet == reports.SheetOrders && r > 3 && r < len(rows)-1 {
				w = digest
			}
			h, err := f.GetRowHeight(sheet, r)
			check(err)
			fmt.Fprintf(w, "row %d height %g\n", r, h)
			for c := 1; c <= ncol; c++ {
				ref, _ := excelize.CoordinatesToCellName(c, r)
				v, err := f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
				check(err)
				formula, err := f.GetCellFormula(sheet, ref)
				check(err)
				style, err := f.GetCellStyle(sheet, ref)
				check(err)
				if v == "" && formula == "" && style == 0 {
					continue
				}
				styles[style] = true
				fmt.Fprintf(w, "%s s=%d v=%q", ref, style, v)
				if formula != "" {
					fmt.Fprintf(w, " f=%q", formula)
				}
				fmt.Fprintln(w)
			}
		}
		fmt.Fprintf(w, "rows %d, digest of the rows not shown %x\n", len(rows), digest.Sum(nil)[:12])
	}
	for _, id := range slices.Sorted(func(yield func(int) bool) {
		for id := range styles {
			if !yield(id) {
				return
			}
		}
	}) {
		st, err := f.GetStyle(id)
		check(err)
		fmt.Fprintf(w, "style %d %s\n", id, jsonText(t, st))
	}
	for _, d := range f.GetDefinedName() {
		fmt.Fprintf(w, "defined name %s\n", jsonText(t, d))
	}
	fmt.Fprintf(w, "active sheet %d\n", f.GetActiveSheetIndex())

	zr, err := zip.OpenReader(path)
	check(err)
	defer zr.Close()
	// excelize writes the parts, and the entries of [Content_Types].xml,
	// in map order: both are sorted here.
	parts := slices.SortedFunc(slices.Values(zr.File), func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range parts {
		r, err := p.Open()
		check(err)
		b, err := io.ReadAll(r)
		r.Close()
		check(err)
		if p.Name == "[Content_Types].xml" {
			entries := strings.Split(string(b), "><")
			slices.Sort(entries)
			b = []byte(strings.Join(entries, "><"))
		}
		fmt.Fprintf(w, "part %s %x\n", p.Name, sha256.Sum256(b))
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
