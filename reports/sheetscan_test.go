package reports

import (
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestSheetScan compares the reconciliation's sheet reader with excelize's
// on cells of every kind: shared and inline strings with entities and
// non-ASCII text, numbers, formulas with cached values, empty cells.
func TestSheetScan(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scan.xlsx")
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", "Plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Stream & more"); err != nil {
		t.Fatal(err)
	}
	for cell, v := range map[string]any{
		"A1": "shared <&> \"quoted\" 'text'", "B1": 12.5, "C1": int64(-3), "E1": "Ümlaut € 円",
		"A3": "  spaces  ", "AB3": 0.000001,
	} {
		if err := f.SetCellValue("Plain", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SetCellFormula("Plain", "D1", `IF(B1>1,"a&b",C1)`); err != nil {
		t.Fatal(err)
	}
	sw, err := f.NewStreamWriter("Stream & more")
	if err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"inline <&>", 1234.56, excelize.Cell{Formula: `SUM(B1:B2)&"x"`, Value: 7}, nil, "last"},
		{nil, "", "tab\there", int64(42)},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	f.Close()

	x, err := openXLSX(path)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ref, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	if got, want := x.sheets, ref.GetSheetList(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	for _, sheet := range x.sheets {
		want, err := ref.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		err = x.rows(sheet, func(r int, cells []sheetCell) error {
			seen++
			w := want[r-1]
			for c := range max(len(w), len(cells)) {
				wv := ""
				if c < len(w) {
					wv = w[c]
				}
				if got := at(cells, c); got != wv {
					t.Errorf("%s row %d col %d = %q, excelize %q", sheet, r, c, got, wv)
				}
				ref, _ := excelize.CoordinatesToCellName(c+1, r)
				wf, _ := x2formula(t, path, sheet, ref)
				gf := ""
				if c < len(cells) {
					gf = cells[c].formula
				}
				if gf != wf {
					t.Errorf("%s %s formula %q, excelize %q", sheet, ref, gf, wf)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if nonEmpty := countNonEmpty(want); seen != nonEmpty {
			t.Errorf("%s: %d rows, excelize %d", sheet, seen, nonEmpty)
		}
	}
}

func x2formula(t *testing.T, path, sheet, cell string) (string, error) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.GetCellFormula(sheet, cell)
}

func countNonEmpty(rows [][]string) int {
	n := 0
	for _, r := range rows {
		if len(r) > 0 {
			n++
		}
	}
	return n
}
