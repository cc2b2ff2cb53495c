// Package progress shows how runs progress and measures them: a one-line
// display redrawn on terminals (per stream: pages, rows, the rate of the
// last seconds, days done and an ETA; and a bar of the dates of a
// backfill), Prometheus metrics of runs, and their push to a Pushgateway,
// the convention for batch jobs.
package progress

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Terminal reports whether w is a terminal, where a redrawn line makes
// sense; logs, pipes and files get none.
func Terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// DefaultRateWindow is how far back a Display's rates look: long enough to
// smooth a few pages, short enough that a stream that stopped shows 0/s
// within seconds, not a whole-run average that keeps falling.
const DefaultRateWindow = 5 * time.Second

// Display is a pipeline.DayObserver that keeps one status line on a
// terminal: per stream the pages, rows and rows per second over the last
// RateWindow, and, for a stream read day by day, the days done of the total
// and an ETA; when tasks are set, a bar of tasks done with an ETA. It
// redraws at most every Interval, and, once started, every second.
//
// Make one only for a terminal (see Terminal). A nil *Display is valid and
// shows nothing, so callers can pass one whatever the output is. Its
// methods are safe for concurrent use.
type Display struct {
	w   io.Writer
	now func() time.Time
	// Interval is the least time between redraws; Page redraws no more
	// often. Set it before use.
	Interval time.Duration
	// RateWindow is the span of the rates shown. Set it before use.
	RateWindow time.Duration
	// Width is the width of the line in columns. Zero (the default of
	// NewDisplay) means the terminal's, queried at each redraw so that a
	// resized window fits, else $COLUMNS, else 80. The line is shortened
	// to fit, never wrapped: a wrapped line cannot be redrawn in place.
	Width int
	// getenv reads $COLUMNS.
	getenv func(string) string

	mu        sync.Mutex
	streams   []*streamStat
	accounts  map[string]bool
	tasks     *tasks
	lastDraw  time.Time
	lineShown bool
	stop      chan struct{} // closed by Finish to end Start's ticker
	stopped   chan struct{} // closed when the ticker has ended
}

type streamStat struct {
	account, stream string
	pages           int
	records         int64
	// samples are (time, records so far) after each page, from the last
	// one at or before now-RateWindow on: a window's worth of pages.
	samples []sample
	// days: done of total API days, since daysStart; total 0 when the
	// stream is not read by day.
	days, totalDays int
	daysStart       time.Time
}

type sample struct {
	at      time.Time
	records int64
}

type tasks struct {
	label       string
	done, total int
	note        string
	start       time.Time // the first Tasks call
}

// NewDisplay returns a display drawing on w, a terminal, with clock now
// (time.Now when nil).
func NewDisplay(w io.Writer, now func() time.Time) *Display {
	if now == nil {
		now = time.Now
	}
	return &Display{w: w, now: now, Interval: 100 * time.Millisecond, RateWindow: DefaultRateWindow,
		getenv: os.Getenv, accounts: map[string]bool{}}
}

// Start redraws the line every second until Finish, so that rates and ETAs
// move on while no page arrives (a stream that stopped falls to 0/s).
func (d *Display) Start() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		return
	}
	d.stop, d.stopped = make(chan struct{}), make(chan struct{})
	go func(stop, stopped chan struct{}) {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d.Refresh()
			}
		}
	}(d.stop, d.stopped)
}

// Refresh redraws the line now, if it has anything to show.
func (d *Display) Refresh() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draw(d.now())
}

func (d *Display) stream(account, stream string, now time.Time) *streamStat {
	for _, x := range d.streams {
		if x.account == account && x.stream == stream {
			return x
		}
	}
	s := &streamStat{account: account, stream: stream}
	d.streams = append(d.streams, s)
	d.accounts[account] = true
	return s
}

// Page records a page of records of stream read for account.
func (d *Display) Page(account, stream string, records int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	s := d.stream(account, stream, now)
	s.pages++
	s.records += int64(records)
	s.samples = append(s.samples, sample{at: now, records: s.records})
	s.prune(now, d.RateWindow)
	d.maybeDraw(now)
}

// Days records that done of total API days of stream are read for account
// (pipeline.DayObserver). Done 0 starts the stream's days again, as each
// date of a backfill does.
func (d *Display) Days(account, stream string, done, total int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	s := d.stream(account, stream, now)
	if done == 0 || s.daysStart.IsZero() {
		s.daysStart = now
	}
	s.days, s.totalDays = done, total
	d.maybeDraw(now)
}

// Tasks sets the bar: done of total tasks (e.g. dates of a backfill), with
// label before it and note after it, and an ETA from the time since the
// first call. It always redraws.
func (d *Display) Tasks(label string, done, total int, note string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	start := now
	if d.tasks != nil {
		start = d.tasks.start
	}
	d.tasks = &tasks{label: label, done: done, total: total, note: note, start: start}
	d.draw(now)
}

// Finish stops Start's redraws, draws the line a last time and ends it, so
// that what is printed next starts on a line of its own.
func (d *Display) Finish() {
	if d == nil {
		return
	}
	d.mu.Lock()
	stop, stopped := d.stop, d.stopped
	d.stop = nil
	d.mu.Unlock()
	if stop != nil {
		close(stop)
		<-stopped
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.draw(d.now())
	if d.lineShown {
		io.WriteString(d.w, "\n")
		d.lineShown = false
	}
}

// Clear erases the status line, which the next update redraws.
func (d *Display) Clear() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
}

// LogWriter returns a writer for log lines written to the display's
// terminal: each write clears the status line, writes, and redraws it, so
// logs and the line do not garble each other. Pass it to the log handler.
func (d *Display) LogWriter() io.Writer { return logWriter{d} }

type logWriter struct{ d *Display }

func (lw logWriter) Write(p []byte) (int, error) {
	d := lw.d
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	n, err := d.w.Write(p)
	d.draw(d.now())
	return n, err
}

func (d *Display) maybeDraw(now time.Time) {
	if now.Sub(d.lastDraw) < d.Interval && d.lineShown {
		return
	}
	d.draw(now)
}

func (d *Display) clear() {
	if d.lineShown {
		io.WriteString(d.w, "\r\x1b[K")
		d.lineShown = false
	}
}

func (d *Display) draw(now time.Time) {
	line := d.line(now, d.width())
	if line == "" {
		return
	}
	d.lastDraw = now
	io.WriteString(d.w, "\r"+line+"\x1b[K")
	d.lineShown = true
}

// width returns the columns the line may take: one less than the
// terminal's, since a character in the last column makes some terminals
// wrap.
func (d *Display) width() int {
	w := d.Width
	if w <= 0 {
		w = columns(d.w, d.getenv)
	}
	return max(w-1, 1)
}

// columns returns the width of the terminal w: its window size, else
// $COLUMNS, else 80.
func columns(w io.Writer, getenv func(string) string) int {
	if f, ok := w.(*os.File); ok {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	if getenv != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
			return n
		}
	}
	return 80
}

// prune drops the samples before the last one at or before now-window:
// that one is the base of the rate over the window.
func (s *streamStat) prune(now time.Time, window time.Duration) {
	cut := now.Add(-window)
	i := 0
	for i+1 < len(s.samples) && !s.samples[i+1].at.After(cut) {
		i++
	}
	s.samples = s.samples[i:]
}

// rate returns the rows per second over the last window at now: the rows
// after the last page at or before now-window (or after the first page, for
// a stream younger than that; the time before it, a login or a first
// request, is no rate) over the time since. ok is false less than a second
// after that page.
func (s *streamStat) rate(now time.Time, window time.Duration) (perSecond int64, ok bool) {
	if len(s.samples) == 0 {
		return 0, false
	}
	s.prune(now, window)
	base := s.samples[0]
	span := now.Sub(base.at)
	if span < time.Second {
		return 0, false
	}
	return (s.records - base.records) * int64(time.Second) / int64(span), true
}

// eta returns the time left at now for done of total units begun at start,
// at the pace so far; ok is false when nothing is done yet or all is.
func eta(now, start time.Time, done, total int) (time.Duration, bool) {
	if done <= 0 || done >= total {
		return 0, false
	}
	return time.Duration(int64(now.Sub(start)) * int64(total-done) / int64(done)), true
}
