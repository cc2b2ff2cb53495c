package reports

import (
	"fmt"

	"github.com/xuri/excelize/v2"
)

// Number formats.
const (
	fmtDate     = "yyyy-mm-dd"
	fmtMonth    = "mmmm yyyy"
	fmtDateTime = "yyyy-mm-dd hh:mm:ss"
	fmtCount    = "#,##0"
	fmtPercent  = "0.00%"
	// fmtRate shows a chargeback rate with two to four decimals: 0.65%,
	// 0.8481%; the exact fraction is in the cell's note.
	fmtRate = "0.00##%"
)

// fontFamily is the workbook's font, excelize's default, named in every
// style so that no cell falls back to another family.
const fontFamily = "Calibri"

// styles holds the workbook's cell styles, created on first use.
type styles struct {
	f     *excelize.File
	cache map[styleKey]int
}

type styleKey struct {
	kind   styleKind
	format string
}

type styleKind int

const (
	kindPlain styleKind = iota
	kindTitle
	kindSubtitle
	kindHeader
	kindLabel
	kindTotal // bold, top border
	kindStrong
	kindLeft // plain, aligned left
	// kindHeaderRight heads a column of numbers, aligned as they are.
	kindHeaderRight
	// kindHeaderText and kindText are a text column's header and cells,
	// indented one step so that they never touch a right-aligned number in
	// the column to their left ("0.85%0.65% or more").
	kindHeaderText
	kindText
	// kindTotalText is kindText in a total row.
	kindTotalText
	// kindNote is a footnote: italic, wrapped within its merged cells;
	// kindWrap is plain text so wrapped.
	kindNote
	kindWrap
)

func newStyles(f *excelize.File) *styles {
	return &styles{f: f, cache: make(map[styleKey]int)}
}

// get returns the style of kind with number format (empty: General).
func (s *styles) get(kind styleKind, format string) (int, error) {
	k := styleKey{kind, format}
	if id, ok := s.cache[k]; ok {
		return id, nil
	}
	st := &excelize.Style{Font: &excelize.Font{Family: fontFamily, Size: 11}}
	if format != "" {
		st.CustomNumFmt = &format
	}
	switch kind {
	case kindTitle:
		st.Font = &excelize.Font{Family: fontFamily, Bold: true, Size: 15, Color: "1F3864"}
	case kindSubtitle:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Italic: true, Color: "595959"}
	case kindHeader, kindHeaderRight, kindHeaderText:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Bold: true, Color: "1F3864"}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}
		st.Border = []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}}
		st.Alignment = &excelize.Alignment{Vertical: "center", WrapText: true}
		switch kind {
		case kindHeaderRight:
			st.Alignment.Horizontal = "right"
		case kindHeaderText:
			st.Alignment.Horizontal, st.Alignment.Indent = "left", 1
		}
	case kindText:
		st.Alignment = &excelize.Alignment{Horizontal: "left", Indent: 1}
	case kindNote:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Italic: true, Color: "595959"}
		st.Alignment = &excelize.Alignment{Vertical: "top", WrapText: true}
	case kindWrap:
		st.Alignment = &excelize.Alignment{Horizontal: "left", Vertical: "top", WrapText: true}
	case kindLabel:
		// Top-aligned, level with the first line of a wrapped value.
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Color: "404040"}
		st.Alignment = &excelize.Alignment{Vertical: "top"}
	case kindTotal, kindTotalText:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Bold: true}
		st.Border = []excelize.Border{{Type: "top", Color: "000000", Style: 1}}
		if kind == kindTotalText {
			st.Alignment = &excelize.Alignment{Horizontal: "left", Indent: 1}
		}
	case kindLeft:
		st.Alignment = &excelize.Alignment{Horizontal: "left"}
	case kindStrong:
		st.Font = &excelize.Font{Family: fontFamily, Bold: true, Size: 12}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}
	}
	id, err := s.f.NewStyle(st)
	if err != nil {
		return 0, fmt.Errorf("style %d %q: %w", kind, format, err)
	}
	s.cache[k] = id
	return id, nil
}
