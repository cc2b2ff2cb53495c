package reports_test

import (
	"archive/zip"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// Tests of issue 14, finding 8 (presentation): each reads the workbook of
// the sandbox's March back with excelize and checks what a reader sees.

// presented is a built workbook, open, with a cache of its cells' styles.
type presented struct {
	t      *testing.T
	f      *excelize.File
	path   string
	styles map[int]*excelize.Style
}

func buildPresented(t *testing.T) *presented {
	t.Helper()
	fx := sandboxWarehouse(t)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: fx.month,
		RunID: "presentation", Dir: t.TempDir(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(rep.Workbook)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &presented{t: t, f: f, path: rep.Workbook, styles: map[int]*excelize.Style{}}
}

// cell is what a reader sees of a cell: its raw value, whether it is a
// number (dates included), its horizontal alignment and indent.
type cell struct {
	ref, value, format, align string
	number                    bool
	indent                    int
	style                     *excelize.Style
}

func (p *presented) cell(sheet string, c, r int) cell {
	p.t.Helper()
	ref, _ := excelize.CoordinatesToCellName(c, r)
	v, err := p.f.GetCellValue(sheet, ref, excelize.Options{RawCellValue: true})
	if err != nil {
		p.t.Fatal(err)
	}
	ty, err := p.f.GetCellType(sheet, ref)
	if err != nil {
		p.t.Fatal(err)
	}
	id, err := p.f.GetCellStyle(sheet, ref)
	if err != nil {
		p.t.Fatal(err)
	}
	st := p.styles[id]
	if st == nil {
		if st, err = p.f.GetStyle(id); err != nil {
			p.t.Fatal(err)
		}
		p.styles[id] = st
	}
	out := cell{ref: ref, value: v, style: st}
	if st.CustomNumFmt != nil {
		out.format = *st.CustomNumFmt
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && v != "" && (ty == excelize.CellTypeUnset || ty == excelize.CellTypeNumber) {
		out.number = true
	}
	if st.Alignment != nil {
		out.align, out.indent = st.Alignment.Horizontal, st.Alignment.Indent
	}
	return out
}

// rightEnded: the cell's content ends at its right edge; leftStarted: it
// starts at its left edge.
func (c cell) rightEnded() bool {
	return c.value != "" && (c.align == "right" || (c.number && c.align == ""))
}

func (c cell) leftStarted() bool {
	return c.value != "" && c.indent == 0 && (c.align == "left" || (!c.number && c.align == ""))
}

// rows returns the rows of sheet to check: all, but of the Orders sheet the
// first 40 and the totals.
func (p *presented) rows(sheet string) [][]string {
	rows, err := p.f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		p.t.Fatal(err)
	}
	return rows
}

func (p *presented) checkedRows(sheet string) []int {
	rows := p.rows(sheet)
	var out []int
	for i := range rows {
		if sheet == reports.SheetOrders && i >= 40 && (len(rows[i]) == 0 || rows[i][0] != "Total") {
			continue
		}
		out = append(out, i+1)
	}
	return out
}

// TestNothingRunsTogether: in no row does a cell whose content ends at its
// right edge (a number, a right-aligned header) sit left of one whose
// content starts at its left edge, which reads as one word: "499.00
// USDUSD", "0.85%0.65% or more", "2025-03-01order_date". And a column of
// numbers has a right-aligned header, so that "EUR" sits over the EUR
// amounts.
func TestNothingRunsTogether(t *testing.T) {
	p := buildPresented(t)
	merged := map[string]bool{}
	for _, sheet := range reports.Sheets() {
		mc, err := p.f.GetMergeCells(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mc {
			merged[sheet+"!"+m.GetStartAxis()] = true
		}
		rows := p.rows(sheet)
		for _, r := range p.checkedRows(sheet) {
			n := len(rows[r-1])
			for c := 1; c < n; c++ {
				a, b := p.cell(sheet, c, r), p.cell(sheet, c+1, r)
				if merged[sheet+"!"+a.ref] {
					continue
				}
				if a.rightEnded() && b.leftStarted() {
					t.Errorf("%s %s %q runs into %s %q", sheet, a.ref, a.value, b.ref, b.value)
				}
			}
		}
	}
	// Headers over numbers are right-aligned.
	for sheet, hdr := range map[string]int{reports.SheetChargebackFees: 1, reports.SheetOrders: 1, reports.SheetChargebackRate: 1,
		reports.SheetRevenueSplit: 1, reports.SheetSubscriptions: 3} {
		rows := p.rows(sheet)
		for c := 1; c <= len(rows[hdr-1]); c++ {
			h, below := p.cell(sheet, c, hdr), p.cell(sheet, c, hdr+1)
			if below.number && h.align != "right" {
				t.Errorf("%s header %s %q is aligned %q over numbers", sheet, h.ref, h.value, h.align)
			}
		}
	}
	rows := p.rows(reports.SheetSummary)
	for i, r := range rows {
		if len(r) == 0 || (r[0] != "By currency" && r[0] != "Fee set by") {
			continue
		}
		for c := 2; c <= len(r); c++ {
			h, below := p.cell(reports.SheetSummary, c, i+1), p.cell(reports.SheetSummary, c, i+2)
			if below.number && h.align != "right" {
				t.Errorf("Summary header %s %q is aligned %q over numbers", h.ref, h.value, h.align)
			}
		}
	}
}

// TestHeadersFitTheirColumns: no header word is wider than its column, so
// none breaks mid-word ("Chargebac k rate"). A bold character is taken as
// 1.1 widths of a digit, an indent as 1.5.
func TestHeadersFitTheirColumns(t *testing.T) {
	p := buildPresented(t)
	for sheet, hdr := range map[string]int{reports.SheetChargebackFees: 1, reports.SheetOrders: 1, reports.SheetChargebackRate: 1,
		reports.SheetRevenueSplit: 1, reports.SheetSubscriptions: 3} {
		rows := p.rows(sheet)
		for c := 1; c <= len(rows[hdr-1]); c++ {
			h := p.cell(sheet, c, hdr)
			name, _ := excelize.ColumnNumberToName(c)
			w, err := p.f.GetColWidth(sheet, name)
			if err != nil {
				t.Fatal(err)
			}
			for _, word := range strings.Fields(h.value) {
				if need := float64(len([]rune(word)))*1.1 + 1.5*float64(h.indent); need > w {
					t.Errorf("%s header %s %q: %q needs %.1f, the column is %g wide", sheet, h.ref, h.value, word, need, w)
				}
			}
			// Wrapped at a character a unit of width, the header's
			// lines fit its row, 15 points a line.
			height, err := p.f.GetRowHeight(sheet, hdr)
			if err != nil {
				t.Fatal(err)
			}
			if n := wrappedLines(h.value, w-1.5*float64(h.indent)); float64(n)*15 > height {
				t.Errorf("%s header %s %q wraps to %d lines in a row %g points high", sheet, h.ref, h.value, n, height)
			}
		}
	}
}

// wrappedLines is the number of lines s takes wrapped at width characters.
func wrappedLines(s string, width float64) int {
	lines, cur := 1, 0
	for _, w := range strings.Fields(s) {
		n := len([]rune(w))
		switch {
		case cur == 0:
			cur = n
		case float64(cur+1+n) <= width:
			cur += 1 + n
		default:
			lines, cur = lines+1, n
		}
	}
	return lines
}

// TestRatesReadable: a chargeback rate shows two to four decimals
// (0.8481%, not 0.8480565% nor 0.85%), and its exact fraction is in the
// cell's note: on the Summary's fee basis and on every month of the
// Chargeback rate sheet, whose counts are beside it.
func TestRatesReadable(t *testing.T) {
	p := buildPresented(t)
	notes := map[string]string{}
	for _, sheet := range []string{reports.SheetSummary, reports.SheetChargebackRate} {
		cs, err := p.f.GetComments(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			notes[sheet+"!"+c.Cell] = c.Text
		}
	}
	found := false
	for i, r := range p.rows(reports.SheetSummary) {
		if len(r) < 3 || r[0] != "the chargeback rate of the month before" {
			continue
		}
		found = true
		c := p.cell(reports.SheetSummary, 3, i+1)
		if c.format != "0.00##%" || c.value != "0.008480565" {
			t.Errorf("Summary rate %s = %s formatted %q, want 0.008480565 formatted 0.00##%%", c.ref, c.value, c.format)
		}
		if n := notes["Summary!"+c.ref]; !strings.Contains(n, "12/1,415") {
			t.Errorf("Summary rate %s note %q, want the fraction 12/1,415", c.ref, n)
		}
		tier := p.cell(reports.SheetSummary, 4, i+1)
		if tier.value != "0.65% or more" || tier.indent < 1 {
			t.Errorf("Summary tier %s %q indent %d", tier.ref, tier.value, tier.indent)
		}
	}
	if !found {
		t.Fatal("the Summary has no fee basis set by a rate")
	}
	for i, r := range p.rows(reports.SheetChargebackRate)[1:] {
		if len(r) < 4 || r[1] == "" {
			continue
		}
		c := p.cell(reports.SheetChargebackRate, 4, i+2)
		want := "Exactly " + thousands(r[2]) + "/" + thousands(r[1])
		if c.format != "0.00##%" || !strings.HasPrefix(notes["Chargeback rate!"+c.ref], want) {
			t.Errorf("Chargeback rate %s formatted %q, note %q; want 0.00##%% and %q", c.ref, c.format, notes["Chargeback rate!"+c.ref], want)
		}
	}
	for i := range p.rows(reports.SheetChargebackFees)[1:] {
		if c := p.cell(reports.SheetChargebackFees, 12, i+2); c.number && c.format != "0.00##%" {
			t.Errorf("Chargeback fees rate %s formatted %q", c.ref, c.format)
		}
	}
}

// thousands puts thousands separators into a count's digits.
func thousands(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	out := strconv.FormatInt(n, 10)
	for i := len(out) - 3; i > 0; i -= 3 {
		out = out[:i] + "," + out[i:]
	}
	return out
}

// TestPrintsReadably: every sheet repeats its header rows on every page
// (print titles), is fitted to one page wide but not one page high, is
// landscape when wider than a portrait page, and its columns fit a
// landscape page at no less than 7-point text (the workbook printed at
// about 4 points).
func TestPrintsReadably(t *testing.T) {
	p := buildPresented(t)
	titles := map[string]string{}
	for _, d := range p.f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" {
			titles[d.Scope] = d.RefersTo
		}
	}
	for _, sheet := range reports.Sheets() {
		want := fmt.Sprintf("'%s'!$1:$1", sheet)
		switch sheet {
		case reports.SheetSubscriptions:
			want = fmt.Sprintf("'%s'!$1:$3", sheet)
		case reports.SheetOrders: // two pages wide: each repeats the reference
			want = fmt.Sprintf("'%[1]s'!$A:$A,'%[1]s'!$1:$1", sheet)
		}
		if titles[sheet] != want {
			t.Errorf("%s print titles %q, want %q", sheet, titles[sheet], want)
		}
		layout, err := p.f.GetPageLayout(sheet)
		if err != nil {
			t.Fatal(err)
		}
		props, err := p.f.GetSheetProps(sheet)
		if err != nil {
			t.Fatal(err)
		}
		wantWide := 1
		if sheet == reports.SheetOrders {
			wantWide = 2 // 22 columns on one page would print at 4.2 points
		}
		if props.FitToPage == nil || !*props.FitToPage || layout.FitToWidth == nil || *layout.FitToWidth != wantWide || layout.FitToHeight == nil || *layout.FitToHeight != 0 {
			t.Errorf("%s: fit to page %v, width %v, height %v; want %d page(s) wide, any pages high", sheet, props.FitToPage, layout.FitToWidth, layout.FitToHeight, wantWide)
		}
		// The printed width of the used columns, Excel's rule: a
		// character 7 pixels, a column 5 more, a pixel 3/4 point.
		rows := p.rows(sheet)
		ncol := 0
		for _, r := range rows {
			ncol = max(ncol, len(r))
		}
		var pt float64
		for c := 1; c <= ncol; c++ {
			name, _ := excelize.ColumnNumberToName(c)
			w, err := p.f.GetColWidth(sheet, name)
			if err != nil {
				t.Fatal(err)
			}
			pt += (w*7 + 5) * 0.75
		}
		const landscape, portrait = (11 - 1.4) * 72, (8.5 - 1.4) * 72
		if wantOrient := map[bool]string{true: "landscape", false: "portrait"}[pt > portrait]; layout.Orientation == nil || *layout.Orientation != wantOrient {
			t.Errorf("%s: %.0f points wide, orientation %v, want %s", sheet, pt, layout.Orientation, wantOrient)
		}
		if size := 11 * min(1, landscape*float64(wantWide)/pt); size < 7 {
			t.Errorf("%s: %.0f points of columns print at %.1f-point text", sheet, pt, size)
		}
	}
}

// TestOrdersTotals: below the Orders rows, after a blank row, a totals row
// per currency counts the currency's orders and sums each amount column, as
// COUNTIF and SUMIFS formulas over the rows whose cached values are the
// exact sums of the rows' cells. No amounts of two currencies are added.
func TestOrdersTotals(t *testing.T) {
	p := buildPresented(t)
	rows := p.rows(reports.SheetOrders)
	type sums struct {
		n   int64
		col map[int]money.Amount
	}
	detail := map[string]*sums{}
	last := 1
	for i, r := range rows[1:] {
		if len(r) == 0 {
			break
		}
		last = i + 2
		s := detail[r[3]]
		if s == nil {
			s = &sums{col: map[int]money.Amount{}}
			detail[r[3]] = s
		}
		s.n++
		for c := 5; c <= 11; c++ {
			a, _, err := money.Parse(r[c])
			if err != nil {
				t.Fatalf("Orders row %d column %d: %v", i+2, c+1, err)
			}
			s.col[c] = s.col[c].Add(a)
		}
	}
	if len(rows) < last+2 || len(rows[last]) != 0 {
		t.Fatalf("Orders: no blank row after the last order, row %d", last)
	}
	seen := map[string]bool{}
	for i, r := range rows[last+1:] {
		row := last + 2 + i
		if len(r) < 12 || r[0] != "Total" {
			t.Fatalf("Orders row %d: %q, want a totals row", row, r)
		}
		cur := r[3]
		seen[cur] = true
		d := detail[cur]
		if d == nil {
			t.Errorf("Orders totals row %d for %s, which has no orders", row, cur)
			continue
		}
		formula := func(c int) string {
			ref, _ := excelize.CoordinatesToCellName(c+1, row)
			f, err := p.f.GetCellFormula(reports.SheetOrders, ref)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		if r[2] != strconv.FormatInt(d.n, 10) || formula(2) != fmt.Sprintf("COUNTIF($D$2:$D$%d,$D$%d)", last, row) {
			t.Errorf("Orders %s total count %s (%s), want %d", cur, r[2], formula(2), d.n)
		}
		for c := 5; c <= 11; c++ {
			got, _, err := money.Parse(r[c])
			l, _ := excelize.ColumnNumberToName(c + 1)
			wantF := fmt.Sprintf("SUMIFS($%s$2:$%s$%d,$D$2:$D$%d,$D$%d)", l, l, last, last, row)
			if err != nil || got != d.col[c] || formula(c) != wantF {
				t.Errorf("Orders %s total %s%d = %s (%q), want %s (%q)", cur, l, row, r[c], formula(c), d.col[c], wantF)
			}
			if cl := p.cell(reports.SheetOrders, c+1, row); !strings.HasSuffix(cl.format, `"`+cur+`"`) {
				t.Errorf("Orders %s total %s formatted %q", cur, cl.ref, cl.format)
			}
		}
	}
	if len(seen) != len(detail) {
		t.Errorf("Orders totals for %v, orders in %d currencies", seen, len(detail))
	}
}

// TestChartLabelsDark: the chart's axis labels are dark, not excelize's
// default 15% grey.
func TestChartLabelsDark(t *testing.T) {
	p := buildPresented(t)
	zr, err := zip.OpenReader(p.path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var xml string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "xl/charts/chart") {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
			xml += string(b)
		}
	}
	axes := regexp.MustCompile(`(?s)<(?:c:)?(catAx|valAx|dateAx)>(.*?)</(?:c:)?(?:catAx|valAx|dateAx)>`).FindAllStringSubmatch(xml, -1)
	if len(axes) < 2 {
		t.Fatalf("chart has %d axes", len(axes))
	}
	color := regexp.MustCompile(`(?s)<(?:c:)?txPr>.*?<a:srgbClr val="([0-9A-Fa-f]{6})"`)
	for _, ax := range axes {
		m := color.FindStringSubmatch(ax[2])
		if m == nil {
			t.Errorf("%s labels have no colour of their own (excelize's default is 15%% grey)", ax[1])
			continue
		}
		v, _ := strconv.ParseUint(m[1], 16, 32)
		if r, g, b := v>>16, v>>8&0xff, v&0xff; r > 0x60 || g > 0x60 || b > 0x60 {
			t.Errorf("%s labels coloured %s: too pale", ax[1], m[1])
		}
	}
}

// TestCountsGrouped: no text of the workbook writes a count of four or more
// digits without thousands separators ("1415 transactions"), and the
// opened-on basis reads in words, never as the column value order_date.
func TestCountsGrouped(t *testing.T) {
	p := buildPresented(t)
	month := map[string]bool{}
	for _, m := range []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"} {
		month[m] = true
	}
	check := func(where, s string) {
		if strings.Contains(s, "order_date") {
			t.Errorf("%s says %q", where, s)
		}
		words := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune("();,", r) })
		for i, w := range words {
			if len(w) < 4 || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
				continue
			}
			if i > 0 && month[words[i-1]] {
				continue // a year
			}
			t.Errorf("%s: %q writes %s without separators", where, s, w)
		}
	}
	for _, sheet := range reports.Sheets() {
		rows := p.rows(sheet)
		for _, r := range p.checkedRows(sheet) {
			for c := 1; c <= len(rows[r-1]); c++ {
				cl := p.cell(sheet, c, r)
				// Order references are identifiers, not counts.
				if cl.number || cl.value == "" || (c == 1 && sheet != reports.SheetSummary && sheet != reports.SheetSubscriptions) {
					continue
				}
				check(sheet+" "+cl.ref, cl.value)
			}
		}
		cs, err := p.f.GetComments(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			check(sheet+" note "+c.Cell, c.Text)
		}
	}
	bases := map[string]int{}
	for _, r := range p.rows(reports.SheetChargebackFees)[1:] {
		if len(r) > 9 && r[9] != "" && r[0] != "Total chargeback fee" {
			bases[r[3]]++
		}
	}
	if len(bases) != 2 || bases["estimated (order date)"] == 0 || bases["observed (run date)"] == 0 {
		t.Errorf("Chargeback fees bases %v, want estimated (order date) and observed (run date)", bases)
	}
}

// TestPrintedPagesSayProvisional: every printed page of every sheet names
// the account, the month and the sheet in its header, and PROVISIONAL when
// the report is, not only the Summary's title.
func TestPrintedPagesSayProvisional(t *testing.T) {
	fx := sandboxWarehouse(t)
	for _, tt := range []struct {
		month       civil.Date
		provisional bool
	}{{fx.month, false}, {civil.Date{Year: 2025, Month: 4, Day: 1}, true}} {
		rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: tt.month,
			RunID: "header", Dir: t.TempDir(), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenFile(rep.Workbook)
		if err != nil {
			t.Fatal(err)
		}
		for _, sheet := range reports.Sheets() {
			hf, err := f.GetHeaderFooter(sheet)
			if err != nil {
				t.Fatal(err)
			}
			want := "&Ldemo (LLDEMO), " + tt.month.In(time.UTC).Format("January 2006")
			if tt.provisional {
				want += `&C&"-,Bold"PROVISIONAL`
			}
			want += "&R" + sheet
			if hf == nil || hf.OddHeader != want || hf.OddFooter != "&CPage &P of &N" {
				t.Errorf("%s %s: header and footer %+v, want header %q", tt.month, sheet, hf, want)
			}
		}
		f.Close()
	}
}
