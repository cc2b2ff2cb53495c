package reports_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/xuri/excelize/v2"
)

// TestProvisionalInNameAndTitle: a PROVISIONAL workbook says so in its file
// name, its document title and its Summary title, where it is seen before
// it is read; a complete one does not, and building it removes the
// PROVISIONAL file of an earlier build of the month.
func TestProvisionalInNameAndTitle(t *testing.T) {
	fx := sandboxWarehouse(t)
	tests := []struct {
		name        string
		month       civil.Date
		provisional bool
		file        string
	}{
		{"complete", fx.month, false, "accounting demo 2025-03.xlsx"},
		{"provisional", civil.Date{Year: 2025, Month: 4, Day: 1}, true, "accounting demo 2025-04 PROVISIONAL.xlsx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			monthDir := filepath.Join(dir, "demo", reports.MonthLabel(tt.month))
			other := filepath.Join(monthDir, "accounting demo "+reports.MonthLabel(tt.month)+" PROVISIONAL.xlsx")
			if tt.provisional {
				other = filepath.Join(monthDir, "accounting demo "+reports.MonthLabel(tt.month)+".xlsx")
			}
			if err := os.MkdirAll(monthDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(other, []byte("earlier build"), 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: tt.month,
				RunID: "t", Dir: dir, Now: func() time.Time { return time.Date(2025, 4, 1, 6, 0, 3, 0, time.UTC) }})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rep.Provisional()) > 0; got != tt.provisional {
				t.Fatalf("provisional %v (%q), want %v", got, rep.Provisional(), tt.provisional)
			}
			if rep.WorkbookName() != tt.file || filepath.Dir(rep.Workbook) != monthDir {
				t.Errorf("workbook %s, want %s in %s", rep.Workbook, tt.file, monthDir)
			}
			if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the earlier build %s is still there (%v)", other, err)
			}
			f, err := excelize.OpenFile(rep.Workbook)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			props, err := f.GetDocProps()
			if err != nil {
				t.Fatal(err)
			}
			a1, err := f.GetCellValue(reports.SheetSummary, "A1")
			if err != nil {
				t.Fatal(err)
			}
			want := "Accounting report demo " + reports.MonthLabel(tt.month)
			if tt.provisional {
				want += " PROVISIONAL"
			}
			if props.Title != want {
				t.Errorf("document title %q, want %q", props.Title, want)
			}
			if got := strings.HasPrefix(a1, "PROVISIONAL "); got != tt.provisional {
				t.Errorf("Summary title %q", a1)
			}
		})
	}
}
