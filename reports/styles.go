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
	case kindHeader:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Bold: true, Color: "1F3864"}
		st.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}}
		st.Border = []excelize.Border{{Type: "bottom", Color: "8EA9DB", Style: 1}}
		st.Alignment = &excelize.Alignment{Vertical: "center", WrapText: true}
	case kindLabel:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Color: "404040"}
	case kindTotal:
		st.Font = &excelize.Font{Family: fontFamily, Size: 11, Bold: true}
		st.Border = []excelize.Border{{Type: "top", Color: "000000", Style: 1}}
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
