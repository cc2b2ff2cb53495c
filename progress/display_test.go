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

var _ pipeline.DayObserver = (*progress.Display)(nil)

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
	if got, want := lastLine(buf.String()), "orders 1 page 200 rows"; got != want {
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
	// The rate counts the rows after the first page: 400 in 3 s.
	if got, want := lastLine(buf.String()), "orders 3 pages 600 rows 133/s | subscriptions 1 page 1,000 rows"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}
	d.Page("other", "orders", 5) // a second account: streams are named account/stream
	clock.add(time.Second)
	d.Page("other", "orders", 5)
	if got := lastLine(buf.String()); !strings.HasPrefix(got, "demo/orders 3 pages") || !strings.Contains(got, "other/orders 2 pages 10 rows 5/s") {
		t.Errorf("two accounts: %q", got)
	}
	d.Finish()
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("Finish does not end the line: %q", buf)
	}
}

// TestRateIsOverTheLastSeconds: the rate is that of the last RateWindow
// (5 s), so it follows a stream that slows down and falls to 0 once the
// stream stops, where a whole-run average would keep falling slowly.
func TestRateIsOverTheLastSeconds(t *testing.T) {
	clock := newClock()
	d, buf := display(clock)
	// orders: 1,000 rows a second for 5 s, then 100 a second until 15 s,
	// then nothing.
	for s := 0; s <= 15; s++ {
		n := 100
		if s <= 5 {
			n = 1000
		}
		d.Page("demo", "orders", n)
		if s < 15 {
			clock.add(time.Second)
		}
	}
	tests := []struct {
		at   time.Duration // after the last page, at 15 s
		want string
	}{
		// 1,000 at 5 s and 100 a second from 6 s to 15 s: the window
		// (10 s..15 s) holds five pages of 100.
		{0, "orders 16 pages 7,000 rows 100/s"},
		{2 * time.Second, "orders 16 pages 7,000 rows 60/s"}, // 12 s..17 s: three pages
		{4 * time.Second, "orders 16 pages 7,000 rows 20/s"},
		{5 * time.Second, "orders 16 pages 7,000 rows 0/s"}, // 7,000/20 s = 350/s as a whole-run average
		{60 * time.Second, "orders 16 pages 7,000 rows 0/s"},
	}
	var waited time.Duration
	for _, tt := range tests {
		clock.add(tt.at - waited)
		waited = tt.at
		d.Refresh()
		if got := lastLine(buf.String()); got != tt.want {
			t.Errorf("%s after the last page: %q, want %q", tt.at, got, tt.want)
		}
	}
}

// TestDaysAndETA: a stream read by day shows days done of the total and an
// ETA at the pace of its days so far; a new date (done 0) starts again.
func TestDaysAndETA(t *testing.T) {
	clock := newClock()
	d, buf := display(clock)
	tests := []struct {
		wait        time.Duration
		done, total int
		want        string
	}{
		{0, 0, 10, "orders 0 pages 0 rows days 0/10"},
		{4 * time.Second, 2, 10, "orders 0 pages 0 rows days 2/10 ETA 16s"},     // 4 s for 2 days: 16 s for 8
		{2 * time.Second, -1, 10, "orders 0 pages 0 rows days 2/10 ETA 24s"},    // no day done since: 6 s for 2
		{90 * time.Second, 3, 10, "orders 0 pages 0 rows days 3/10 ETA 3m44s"},  // 96 s for 3 days: 224 s for 7
		{4 * time.Second, 10, 10, "orders 0 pages 0 rows days 10/10"},           // done: no ETA
		{time.Second, 0, 122, "orders 0 pages 0 rows days 0/122"},               // the next date of a backfill
		{3 * time.Hour, 1, 122, "orders 0 pages 0 rows days 1/122 ETA 363h00m"}, // 3 h a day
		{0, 61, 122, "orders 0 pages 0 rows days 61/122 ETA 3h00m"},             // 3 h for 61 days
	}
	for _, tt := range tests {
		clock.add(tt.wait)
		if tt.done >= 0 {
			d.Days("demo", "orders", tt.done, tt.total)
		}
		d.Refresh()
		if got := lastLine(buf.String()); got != tt.want {
			t.Errorf("after %s, %d/%d: %q, want %q", tt.wait, tt.done, tt.total, got, tt.want)
		}
	}
}

func TestDisplayTasksBar(t *testing.T) {
	tests := []struct {
		done, total int
		want        string
	}{
		{0, 4, "backfill [....................] 0/4 2025-03-01"},
		{1, 4, "backfill [#####...............] 1/4 2025-03-01 ETA 30s"}, // 10 s for 1: 30 s for 3
		{2, 4, "backfill [##########..........] 2/4 2025-03-01 ETA 10s"},
		{4, 4, "backfill [####################] 4/4 2025-03-01"},
		{0, 0, "backfill [....................] 0/0 2025-03-01"},
	}
	for _, tt := range tests {
		clock := newClock()
		d, buf := display(clock)
		d.Tasks("backfill", 0, tt.total, "2025-03-01") // the start, before any task
		clock.add(10 * time.Second)
		d.Tasks("backfill", tt.done, tt.total, "2025-03-01")
		if got := lastLine(buf.String()); got != tt.want {
			t.Errorf("%d/%d: %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

// TestDisplayFitsTheTerminal: the line is shortened, dropping the least
// useful figures first, to at most the width less one column (a character
// in the last column makes some terminals wrap), and never wraps.
func TestDisplayFitsTheTerminal(t *testing.T) {
	clock := newClock()
	d, buf := display(clock)
	d.Tasks("backfill nightly", 0, 5, "1 skipped")
	d.Days("demo", "orders", 0, 122)
	for range 10 {
		clock.add(time.Second)
		d.Page("demo", "orders", 3190)
		d.Page("shop", "subscriptions", 12427)
	}
	d.Days("demo", "orders", 61, 122)
	d.Tasks("backfill nightly", 1, 5, "1 skipped")
	tests := []struct {
		width int
		want  string // "" for: only the width is checked
	}{
		{200, "backfill nightly [####................] 1/5 1 skipped ETA 40s | demo/orders 10 pages 31,900 rows 3,190/s days 61/122 ETA 10s | shop/subscriptions 10 pages 124,270 rows 12,427/s"},
		{150, "backfill nightly [##........] 1/5 1 skipped ETA 40s | demo/orders 31.9k rows 3,190/s days 61/122 ETA 10s | shop/subscriptions 124k rows 12.4k/s"},
		{135, "backfill nightly [##........] 1/5 ETA 40s | demo/orders 31.9k rows 3,190/s days 61/122 ETA 10s | shop/subscriptions 124k rows 12.4k/s"},
		{120, "backfill nightly [##........] 1/5 ETA 40s | demo/orders 3,190/s days 61/122 ETA 10s | shop/subscriptions 12.4k/s"},
		{100, "backfill nightly 1/5 ETA 40s | demo/orders 3,190/s days 61/122 ETA 10s | shop/subscriptions 12.4k/s"},
		{90, "backfill nightly 1/5 ETA 40s | demo/ord days 61/122 ETA 10s | shop/subs 124k rows"},
		{80, "backfill nightly 1/5 ETA 40s | demo/ord days 61/122 ETA 10s | shop/subs 124k r…"},
		{60, "backfill nightly 1/5 ETA 40s | demo/ord days 61/122 ETA 10…"},
		{30, "backfill nightly 1/5 ETA 40s…"},
		{1, "…"},
		{2, "…"},
		{10, ""}, {40, ""}, {79, ""}, {81, ""}, {99, ""}, {132, ""},
	}
	for _, tt := range tests {
		d.Width = tt.width
		d.Refresh()
		got := lastLine(buf.String())
		if n := len([]rune(got)); n > max(tt.width-1, 1) || strings.ContainsAny(got, "\n") {
			t.Errorf("width %d: %q (%d columns) does not fit", tt.width, got, n)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("width %d: %q, want %q", tt.width, got, tt.want)
		}
	}
}

func TestColumns(t *testing.T) {
	tests := []struct {
		columns string
		want    int
	}{{"132", 132}, {" 90 ", 90}, {"", 80}, {"wide", 80}, {"0", 80}, {"-3", 80}}
	for _, tt := range tests {
		var buf bytes.Buffer
		d := progress.NewDisplay(&buf, newClock().now)
		progress.SetGetenv(d, func(k string) string {
			if k == "COLUMNS" {
				return tt.columns
			}
			return ""
		})
		d.Tasks(strings.Repeat("x", 300), 0, 1, "")
		if got := len([]rune(lastLine(buf.String()))); got != tt.want-1 {
			t.Errorf("COLUMNS=%q: a line of %d columns, want %d", tt.columns, got, tt.want-1)
		}
	}
}

func TestStartRedrawsUntilFinish(t *testing.T) {
	clock := newClock()
	d, buf := display(clock)
	d.Start()
	d.Start() // a second Start does not start a second ticker
	d.Page("demo", "orders", 1)
	d.Finish() // stops the ticker: no redraw after the line is ended
	out := buf.String()
	time.Sleep(1100 * time.Millisecond)
	if buf.String() != out || !strings.HasSuffix(out, "\n") {
		t.Errorf("output after Finish: %q, then %q", out, buf.String())
	}
}

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{progress.Plural(0, "row"), "0 rows"},
		{progress.Plural(1, "row"), "1 row"},
		{progress.Plural(2, "account"), "2 accounts"},
		{progress.Plural(1234, "dispute"), "1,234 disputes"},
		{progress.Duration(0), "0s"},
		{progress.Duration(1499 * time.Millisecond), "1s"},
		{progress.Duration(59 * time.Second), "59s"},
		{progress.Duration(65 * time.Second), "1m05s"},
		{progress.Duration(2*time.Hour + 3*time.Minute + 59*time.Second), "2h03m"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}

func TestLogWriterKeepsTheLineBelowTheLogs(t *testing.T) {
	d, buf := display(newClock())
	d.Page("demo", "orders", 10)
	fmt.Fprint(d.LogWriter(), "level=INFO msg=hello\n")
	want := "\rorders 1 page 10 rows\x1b[K" + "\r\x1b[K" + "level=INFO msg=hello\n" + "\rorders 1 page 10 rows\x1b[K"
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
	d.Days("demo", "orders", 1, 2)
	d.Start()
	d.Refresh()
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
