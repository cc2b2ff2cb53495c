package reportjob

import (
	"testing"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/reports"
)

// TestDir: --reports-dir wins over reports_dir, which wins over the
// default.
func TestDir(t *testing.T) {
	tests := []struct {
		name, flag string
		file       *config.File
		want       string
	}{
		{"default", "", &config.File{}, reports.DefaultDir},
		{"no file", "", nil, reports.DefaultDir},
		{"reports_dir", "", &config.File{ReportsDir: "/var/lib/ledgerline/reports"}, "/var/lib/ledgerline/reports"},
		{"flag", "/tmp/r", &config.File{}, "/tmp/r"},
		{"flag over reports_dir", "/tmp/r", &config.File{ReportsDir: "/var/lib/ledgerline/reports"}, "/tmp/r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Dir(tt.flag, tt.file); got != tt.want {
				t.Errorf("Dir(%q, %+v) = %q, want %q", tt.flag, tt.file, got, tt.want)
			}
		})
	}
}
