package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ledgerline/ledgerline/money"
	"github.com/xuri/excelize/v2"
)

// book writes the sheets of one workbook.
type book struct {
	f    *excelize.File
	st   *styles
	rep  *Report
	data *monthData

	// ordersLast is the Orders sheet's last detail row.
	ordersLast int
	// feesLast and feesTotal are the Chargeback fees sheet's last detail
	// row and its total row.
	feesLast, feesTotal int
}

// col returns the letters of 0-based column i.
func col(i int) string {
	s, _ := excelize.ColumnNumberToName(i + 1)
	return s
}

// cellRef returns the A1 reference of 0-based column c, row r.
func cellRef(c, r int) string { return col(c) + strconv.Itoa(r) }

// sheetRef quotes a sheet name for a formula.
func sheetRef(sheet string) string {
	return "'" + strings.ReplaceAll(sheet, "'", "''") + "'"
}

// colRange returns the absolute range of 0-based column c from row first to
// last on sheet: 'Orders'!$F$2:$F$100.
func colRange(sheet string, c, first, last int) string {
	l := col(c)
	return fmt.Sprintf("%s!$%s$%d:$%s$%d", sheetRef(sheet), l, first, l, last)
}

// quote makes s a formula string literal.
func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// stream is a stream writer that keeps its row.
type stream struct {
	sw  *excelize.StreamWriter
	row int
}

// pageSetup prints sheet landscape, fitted to one page wide (and, with
// onePage, one page high). It must come before the sheet's stream writer,
// which writes the sheet properties first.
func (b *book) pageSetup(sheet string, onePage bool) error {
	fit := true
	if err := b.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	landscape, one, high := "landscape", 1, 0
	if onePage {
		high = 1
	}
	return b.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, FitToWidth: &one, FitToHeight: &high})
}

func (b *book) stream(sheet string, widths []float64, freeze int, freezeCols int) (*stream, error) {
	if err := b.pageSetup(sheet, sheet == SheetSummary); err != nil {
		return nil, err
	}
	sw, err := b.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	if freeze > 0 || freezeCols > 0 {
		p := &excelize.Panes{Freeze: true, XSplit: freezeCols, YSplit: freeze,
			TopLeftCell: cellRef(freezeCols, freeze+1), ActivePane: "bottomLeft"}
		if freezeCols > 0 {
			p.ActivePane = "bottomRight"
		}
		if err := sw.SetPanes(p); err != nil {
			return nil, err
		}
	}
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return nil, err
		}
	}
	return &stream{sw: sw}, nil
}

// next writes cells as the next row (after skip blank rows).
func (s *stream) next(skip int, cells ...any) error {
	s.row += skip + 1
	if len(cells) == 0 {
		return nil
	}
	return s.sw.SetRow(cellRef(0, s.row), cells)
}

// nextOpts is next with row options.
func (s *stream) nextOpts(skip int, opts excelize.RowOpts, cells ...any) error {
	s.row += skip + 1
	return s.sw.SetRow(cellRef(0, s.row), cells, opts)
}

// style returns the id of a style.
func (b *book) style(kind styleKind, format string) (int, error) { return b.st.get(kind, format) }

// styled returns a cell of value v with style kind and format.
func (b *book) styled(kind styleKind, format string, v any) (excelize.Cell, error) {
	id, err := b.style(kind, format)
	return excelize.Cell{StyleID: id, Value: v}, err
}

// moneyCell returns a cell holding a exactly, in currency's format.
func (b *book) moneyCell(kind styleKind, a money.Amount, currency string) (excelize.Cell, error) {
	v, err := cellAmount(a)
	if err != nil {
		return excelize.Cell{}, err
	}
	return b.styled(kind, moneyFormat(currency), v)
}

// formula returns a formula cell with a cached value: cached is an exact
// money.Amount, an int64 count, or nil. An amount too long to cache
// exactly is left for the spreadsheet to compute.
func (b *book) formula(kind styleKind, format, formula string, cached any) (excelize.Cell, error) {
	var v any
	switch c := cached.(type) {
	case money.Amount:
		if cv, err := cellAmount(c); err == nil {
			v = cv
		}
	case int64:
		v = c
	}
	c, err := b.styled(kind, format, v)
	c.Formula = formula
	return c, err
}

// headerRow returns header cells.
func (b *book) headerRow(names ...string) ([]any, error) {
	id, err := b.style(kindHeader, "")
	cells := make([]any, len(names))
	for i, n := range names {
		cells[i] = excelize.Cell{StyleID: id, Value: n}
	}
	return cells, err
}

// cellMaker makes styled cells and keeps the first error, so that a table
// of rows can be written as literals and checked once.
type cellMaker struct {
	b   *book
	err error
}

func (m *cellMaker) cell(kind styleKind, format string, v any) excelize.Cell {
	c, err := m.b.styled(kind, format, v)
	if err != nil && m.err == nil {
		m.err = err
	}
	return c
}

func (m *cellMaker) label(s string) excelize.Cell { return m.cell(kindLabel, "", s) }

// A sheetRow is a row of a streamed sheet: its cells, the blank rows before it
// and its height (0: the default).
type sheetRow struct {
	skip   int
	height float64
	cells  []any
}

// writeRows writes rows to s.
func writeRows(s *stream, rows []sheetRow) error {
	for _, r := range rows {
		var err error
		if r.height > 0 {
			err = s.nextOpts(r.skip, excelize.RowOpts{Height: r.height}, r.cells...)
		} else {
			err = s.next(r.skip, r.cells...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
