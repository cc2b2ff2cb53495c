// Package progress shows how runs progress and measures them: a one-line
// display redrawn on terminals (pages, rows and rate per stream, and a bar
// of the dates of a backfill), Prometheus metrics of runs, and their push to
// a Pushgateway, the convention for batch jobs.
package progress

import (
	"fmt"
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

// Display is a pipeline.Observer that keeps one status line on a terminal:
// pages, records and records per second of each stream, and, when tasks
// are set, a bar of tasks done. It redraws at most every Interval.
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
	// Width is the terminal width in columns; the line is cut to fit, since
	// a wrapped line cannot be redrawn in place.
	Width int

	mu        sync.Mutex
	streams   []*streamStat
	accounts  map[string]bool
	tasks     *tasks
	lastDraw  time.Time
	lineShown bool
}

type streamStat struct {
	account, stream string
	pages           int
	records         int64
	first           time.Time
}

type tasks struct {
	label       string
	done, total int
	note        string
}

// NewDisplay returns a display drawing on w, a terminal, with clock now
// (time.Now when nil).
func NewDisplay(w io.Writer, now func() time.Time) *Display {
	if now == nil {
		now = time.Now
	}
	width := 0
	if f, ok := w.(*os.File); ok {
		width = terminalWidth(f)
	}
	if width <= 0 {
		width = 100
	}
	return &Display{w: w, now: now, Interval: 100 * time.Millisecond, Width: width, accounts: map[string]bool{}}
}

// Page records a page of records of stream read for account.
func (d *Display) Page(account, stream string, records int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var s *streamStat
	for _, x := range d.streams {
		if x.account == account && x.stream == stream {
			s = x
			break
		}
	}
	if s == nil {
		s = &streamStat{account: account, stream: stream, first: now}
		d.streams = append(d.streams, s)
		d.accounts[account] = true
	}
	s.pages++
	s.records += int64(records)
	d.maybeDraw(now)
}

// Tasks sets the bar: done of total tasks (e.g. dates of a backfill), with
// label before it and note after it. It always redraws.
func (d *Display) Tasks(label string, done, total int, note string) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tasks = &tasks{label: label, done: done, total: total, note: note}
	d.draw(d.now())
}

// Finish draws the line a last time and ends it, so that what is printed
// next starts on a line of its own.
func (d *Display) Finish() {
	if d == nil {
		return
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
	line := d.line(now)
	if line == "" {
		return
	}
	d.lastDraw = now
	if w := d.Width - 1; w > 0 && len([]rune(line)) > w {
		line = string([]rune(line)[:w-1]) + "…"
	}
	io.WriteString(d.w, "\r"+line+"\x1b[K")
	d.lineShown = true
}

// line returns the status line at now.
func (d *Display) line(now time.Time) string {
	var parts []string
	if t := d.tasks; t != nil {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%s %s %d/%d %s", t.label, bar(t.done, t.total, 20), t.done, t.total, t.note)))
	}
	for _, s := range d.streams {
		name := s.stream
		if len(d.accounts) > 1 {
			name = s.account + "/" + s.stream
		}
		part := fmt.Sprintf("%s %s pages %s rows", name, Count(int64(s.pages)), Count(s.records))
		if el := now.Sub(s.first); el >= time.Second {
			part += fmt.Sprintf(" %s/s", Count(int64(float64(s.records)/el.Seconds())))
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " | ")
}

// bar draws done of total in width cells.
func bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

// Count formats n with thousands separators: 1234567 is "1,234,567".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
