package progress_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/ledgerline/ledgerline/progress"
)

var _ pipeline.Observer = (*progress.Display)(nil)

// fakeClock is a clock that tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{time.Date(2025, 4, 1, 2, 0, 0, 0, time.UTC)} }
func lastLine(s string) string {
	i := strings.LastIndex(s, "\r")
	return strings.TrimSuffix(s[i+1:], "\x1b[K")
}
func redraws(s string) int { return strings.Count(s, "\r") }
func display(clock *fakeClock) (*progress.Display, *bytes.Buffer) {
	var buf bytes.Buffer
	d := progress.NewDisplay(&buf, clock.now)
	d.Width = 200
	return d, &buf
}

func TestDisplayShowsPagesRowsAndRatePerStream(t *testing.T) {
	clock := newClock()
	d, buf := display(clock)
	d.Page("demo", "orders", 200)
	if got, want := lastLine(buf.String()), "orders 1 pages 200 rows"; got != want {
		t.Errorf("first page: %q, want %q", got, want)
	}
	clock.add(50 * time.Millisecond)
	d.Page("demo", "orders", 200) // within the interval: no redraw
	if redraws(buf.String()) != 1 {
		t.Errorf("redrawn within the interval: %q", buf)
	}
	clock.add(1950 * time.Millisecond)
	d.Page("demo", "orders", 200)
	clock.add(time.Second)
	d.Page("demo", "subscriptions", 1000)
	tests := []struct{ want string }{
		{"orders 3 pages 600 rows 200/s"},
		{" | subscriptions 1 pages 1,000 rows"},
	}
	got := lastLine(buf.String())
	for _, tt := range tests {
		if !strings.Contains(got, tt.want) {
			t.Errorf("line %q lacks %q", got, tt.want)
		}
	}
	d.Page("other", "orders", 5) // a second account: streams are named account/stream
	clock.add(time.Second)
	d.Page("other", "orders", 5)
	if got := lastLine(buf.String()); !strings.HasPrefix(got, "demo/orders 3 pages") || !strings.Contains(got, "other/orders 2 pages 10 rows") {
		t.Errorf("two accounts: %q", got)
	}
	d.Finish()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("Finish does not end the line: %q", buf)
	}
}

func TestDisplayTasksBar(t *testing.T) {
	tests := []struct {
		done, total int
		want        string
	}{
		{0, 4, "backfill [....................] 0/4 2025-03-01"},
		{1, 4, "backfill [#####...............] 1/4 2025-03-01"},
		{4, 4, "backfill [####################] 4/4 2025-03-01"},
		{0, 0, "backfill [....................] 0/0 2025-03-01"},
	}
	for _, tt := range tests {
		d, buf := display(newClock())
		d.Tasks("backfill", tt.done, tt.total, "2025-03-01")
		if got := lastLine(buf.String()); got != tt.want {
			t.Errorf("%d/%d: %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestDisplayFitsTheTerminal(t *testing.T) {
	d, buf := display(newClock())
	d.Width = 30
	d.Page("demo", "subscriptions", 123456789)
	got := lastLine(buf.String())
	if n := len([]rune(got)); n != 29 || !strings.HasSuffix(got, "…") {
		t.Errorf("line %q (%d columns) does not fit 30 columns", got, n)
	}
}

func TestLogWriterKeepsTheLineBelowTheLogs(t *testing.T) {
	d, buf := display(newClock())
	d.Page("demo", "orders", 10)
	fmt.Fprint(d.LogWriter(), "level=INFO msg=hello\n")
	want := "\rorders 1 pages 10 rows\x1b[K" + "\r\x1b[K" + "level=INFO msg=hello\n" + "\rorders 1 pages 10 rows\x1b[K"
	if buf.String() != want {
		t.Errorf("output %q, want %q", buf, want)
	}
	d.Clear()
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Errorf("Clear: %q", buf)
	}
}

func TestNilDisplayShowsNothing(t *testing.T) {
	var d *progress.Display
	d.Page("demo", "orders", 1)
	d.Tasks("x", 1, 2, "")
	d.Clear()
	d.Finish()
}

func TestTerminal(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	tests := []struct {
		name string
		w    any
	}{
		{"buffer", &bytes.Buffer{}},
		{"/dev/null, a character device but no terminal", devnull},
	}
	for _, tt := range tests {
		if progress.Terminal(tt.w.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("%s: is a terminal", tt.name)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-1234, "-1,234"}}
	for _, tt := range tests {
		if got := progress.Count(tt.n); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
