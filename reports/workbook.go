package reports

import (
	"fmt"
	"math"
	"slices"
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

// stream is a stream writer that keeps its row and its columns' widths.
type stream struct {
	sw     *excelize.StreamWriter
	row    int
	widths []float64
}

// Printed page geometry: US Letter (excelize's default paper) with
// excelize's default margins of 0.7 inch left and right, in points.
const (
	printWidthPortrait  = (8.5 - 1.4) * 72
	printWidthLandscape = (11 - 1.4) * 72
)

// columnPoints is the printed width of columns of widths (in characters
// of the default font) at 100%: a character is 7 pixels and each column 5
// more (Excel's rule for Calibri 11), a pixel 3/4 point.
func columnPoints(widths []float64) float64 {
	var px float64
	for _, w := range widths {
		px += w*7 + 5
	}
	return px * 0.75
}

// pageSetup prints sheet fitted to one page wide (or as few as keep its
// text readable: pagesWide) and as many pages high as it takes, landscape when its columns (widths) are wider than a portrait
// page, with rows 1 to titleRows repeated on every page. Fitting to one page
// high as well would shrink a long sheet to unreadable text. It must come
// before the sheet's stream writer, which writes the sheet properties
// first.
func (b *book) pageSetup(sheet string, widths []float64, titleRows int) error {
	fit := true
	if err := b.f.SetSheetProps(sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	orientation, wide, high := "portrait", pagesWide(widths), 0
	if columnPoints(widths) > printWidthPortrait {
		orientation = "landscape"
	}
	if err := b.f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &orientation, FitToWidth: &wide, FitToHeight: &high}); err != nil {
		return err
	}
	if err := b.f.SetHeaderFooter(sheet, b.headerFooter(sheet)); err != nil {
		return fmt.Errorf("%s header and footer: %w", sheet, err)
	}
	if titleRows == 0 {
		return nil
	}
	titles := fmt.Sprintf("%s!$1:$%d", sheetRef(sheet), titleRows)
	if wide > 1 {
		// Every page across repeats the first column too: the order's
		// reference, on the Orders sheet.
		titles = fmt.Sprintf("%s!$A:$A,%s", sheetRef(sheet), titles)
	}
	return b.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: sheet, RefersTo: titles})
}

// minPrintPoints is the smallest text, in points, that fitting a sheet's
// width may shrink its 11-point text to.
const minPrintPoints = 7

// pagesWide is how many landscape pages wide columns of widths print on so
// that 11-point text shrinks to no less than minPrintPoints: one page for
// every sheet but a very wide one (the Orders sheet's 22 columns).
func pagesWide(widths []float64) int {
	perPage := printWidthLandscape * 11 / minPrintPoints
	return max(1, int(math.Ceil(columnPoints(widths)/perPage)))
}

// headerFooter prints on every page the account, the month and the
// sheet, PROVISIONAL when the report is (a printed detail page says so too,
// not only the Summary's title), and the page number.
func (b *book) headerFooter(sheet string) *excelize.HeaderFooterOptions {
	esc := func(s string) string { return strings.ReplaceAll(s, "&", "&&") }
	a := b.rep.Account
	h := "&L" + esc(fmt.Sprintf("%s (%s), %s", a.Name, a.MerchantCode, monthName(b.rep.Month)))
	if len(b.rep.Provisional()) > 0 {
		h += `&C&"-,Bold"PROVISIONAL`
	}
	return &excelize.HeaderFooterOptions{OddHeader: h + "&R" + esc(sheet), OddFooter: "&CPage &P of &N"}
}

// stream opens sheet's stream writer with the columns' widths, rows 1 to
// freeze (and columns 1 to freezeCols) frozen, and rows 1 to titleRows
// printed on every page.
func (b *book) stream(sheet string, widths []float64, freeze, freezeCols, titleRows int) (*stream, error) {
	if err := b.pageSetup(sheet, widths, titleRows); err != nil {
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
	return &stream{sw: sw, widths: widths}, nil
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

// A header names a column; its alignment follows the column's values: right
// over numbers, indented over text that follows a number (kindText), left
// otherwise.
type header struct {
	name string
	kind styleKind // kindHeader (default), kindHeaderRight or kindHeaderText
}

// hNum and hText are headers of a column of numbers and of indented text.
func hNum(name string) header  { return header{name, kindHeaderRight} }
func hText(name string) header { return header{name, kindHeaderText} }

// headerCells returns the cells of a header row.
func (b *book) headerCells(cols ...header) ([]any, error) {
	cells := make([]any, len(cols))
	for i, c := range cols {
		kind := c.kind
		if kind == kindPlain {
			kind = kindHeader
		}
		id, err := b.style(kind, "")
		if err != nil {
			return nil, err
		}
		cells[i] = excelize.Cell{StyleID: id, Value: c.name}
	}
	return cells, nil
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

// A noteCell, as the last cell of a sheetRow, is merged across to the
// span-th column and wrapped, and its row is made as high as the wrapped
// text needs: a long text neither runs past the table (which widens the
// printed page) nor is cut.
type noteCell struct {
	cell excelize.Cell
	span int
}

// note returns a noteCell of text in kind's style spanning to column span.
func (m *cellMaker) note(kind styleKind, span int, text string) noteCell {
	return noteCell{m.cell(kind, "", text), span}
}

// writeRows writes rows to s.
func writeRows(s *stream, rows []sheetRow) error {
	for _, r := range rows {
		height, cells, span := r.height, r.cells, 0
		if n, ok := cellsNote(cells); ok {
			cells = append(slices.Clone(cells[:len(cells)-1]), n.cell)
			span = n.span
			text, _ := n.cell.Value.(string)
			height = max(height, s.noteHeight(len(cells)-1, span, text))
		}
		var err error
		if height > 0 {
			err = s.nextOpts(r.skip, excelize.RowOpts{Height: height}, cells...)
		} else {
			err = s.next(r.skip, cells...)
		}
		if err != nil {
			return err
		}
		if span > len(cells) {
			if err := s.sw.MergeCell(cellRef(len(cells)-1, s.row), cellRef(span-1, s.row)); err != nil {
				return err
			}
		}
	}
	return nil
}

// cellsNote returns the noteCell that ends cells, if one does.
func cellsNote(cells []any) (noteCell, bool) {
	if len(cells) == 0 {
		return noteCell{}, false
	}
	n, ok := cells[len(cells)-1].(noteCell)
	return n, ok
}

// noteHeight is the height in points of a row whose text spans columns
// from to span-1: 15 points a line, at 1.1 characters of text per unit of
// width (a unit is a digit; LibreOffice without Calibri takes DejaVu Sans,
// wider than Calibri, which fits some 1.3).
func (s *stream) noteHeight(from, span int, text string) float64 {
	var width float64
	for i := from; i < span && i < len(s.widths); i++ {
		width += s.widths[i]
	}
	perLine := max(int(width*1.1), 1)
	lines := max((len([]rune(text))+perLine-1)/perLine, 1)
	return float64(lines)*15 + 2
}
