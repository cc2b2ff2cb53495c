package progress

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// detail is how much a status line says: the line is drawn at the first
// detail that fits the terminal, dropping the least useful figures first,
// and only cut (with "…") when even the least does not fit.
type detail struct {
	pages, rows, rate bool // which figures a stream shows
	compact           bool // 31.9k rather than 31,903
	bar               int  // cells of the tasks bar; 0 for none
	note              bool // the tasks' note
	short             bool // streams by their short names (subs)
}

// details are the details of a line, from the most.
func details() []detail {
	return []detail{
		{pages: true, rows: true, rate: true, bar: 20, note: true},
		{rows: true, rate: true, bar: 20, note: true},
		{rows: true, rate: true, compact: true, bar: 10, note: true},
		{rows: true, rate: true, compact: true, bar: 10},
		{rate: true, compact: true, bar: 10},
		{rate: true, compact: true},
		{compact: true},
		{compact: true, short: true},
	}
}

// shortName returns stream's name on the narrowest lines.
func shortName(stream string) string {
	switch stream {
	case "orders":
		return "ord"
	case "subscriptions":
		return "subs"
	case "chargebacks":
		return "cb"
	}
	return stream
}

// line returns the status line at now in at most width columns; "" when
// there is nothing to show.
func (d *Display) line(now time.Time, width int) string {
	var line string
	for _, dt := range details() {
		if line = d.lineAt(now, dt); len([]rune(line)) <= width {
			return line
		}
	}
	r := []rune(line)
	return string(r[:width-1]) + "…"
}

func (d *Display) lineAt(now time.Time, dt detail) string {
	var parts []string
	if t := d.tasks; t != nil {
		parts = append(parts, t.part(now, dt))
	}
	for _, s := range d.streams {
		name := s.stream
		if dt.short {
			name = shortName(name)
		}
		if len(d.accounts) > 1 {
			name = s.account + "/" + name
		}
		parts = append(parts, s.part(name, now, d.RateWindow, dt))
	}
	return strings.Join(parts, " | ")
}

// part is a stream's part of the line: pages, rows, rate, days and ETA,
// those dt shows.
func (s *streamStat) part(name string, now time.Time, window time.Duration, dt detail) string {
	f := []string{name}
	num := Count
	if dt.compact {
		num = compact
	}
	if dt.pages {
		f = append(f, Plural(int64(s.pages), "page"))
	}
	// A stream read by day always shows its days; rows are shown when
	// nothing else says how far it is.
	if dt.rows || s.totalDays == 0 && !dt.rate {
		f = append(f, noun(num(s.records), s.records, "row"))
	}
	if r, ok := s.rate(now, window); ok && dt.rate {
		f = append(f, num(r)+"/s")
	}
	if s.totalDays > 0 {
		f = append(f, fmt.Sprintf("days %d/%d", s.days, s.totalDays))
		if left, ok := eta(now, s.daysStart, s.days, s.totalDays); ok {
			f = append(f, "ETA "+Duration(left))
		}
	}
	return strings.Join(f, " ")
}

// part is the tasks' part of the line: label, bar, done/total, note, ETA.
func (t *tasks) part(now time.Time, dt detail) string {
	f := []string{t.label}
	if dt.bar > 0 {
		f = append(f, bar(t.done, t.total, dt.bar))
	}
	f = append(f, fmt.Sprintf("%d/%d", t.done, t.total))
	if dt.note && t.note != "" {
		f = append(f, t.note)
	}
	if left, ok := eta(now, t.start, t.done, t.total); ok {
		f = append(f, "ETA "+Duration(left))
	}
	return strings.Join(f, " ")
}

// bar draws done of total in width cells.
func bar(done, total, width int) string {
	filled := 0
	if total > 0 {
		filled = min(width, done*width/total)
	}
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "]"
}

// noun returns n, formatted as text, and noun, plural unless n is 1.
func noun(text string, n int64, noun string) string {
	if n == 1 {
		return text + " " + noun
	}
	return text + " " + noun + "s"
}

// Count formats n with thousands separators: 1234567 is "1,234,567".
func Count(n int64) string { return message.NewPrinter(language.English).Sprintf("%d", n) }

// Plural returns n, with thousands separators, and noun, with an s unless
// n is 1: "1 row", "0 rows", "1,234 rows". Nouns are regular.
func Plural(n int64, name string) string { return noun(Count(n), n, name) }

// compact formats n in at most five columns, cut (not rounded): 9,999,
// 31.9k, 124k, 1.2M, 12M.
func compact(n int64) string {
	switch {
	case n < 10_000:
		return Count(n)
	case n < 100_000:
		return fmt.Sprintf("%d.%dk", n/1000, n/100%10)
	case n < 1_000_000:
		return fmt.Sprintf("%dk", n/1000)
	case n < 10_000_000:
		return fmt.Sprintf("%d.%dM", n/1_000_000, n/100_000%10)
	}
	return fmt.Sprintf("%dM", n/1_000_000)
}

// Duration formats d to the second for people: 12s, 1m05s, 2h03m.
func Duration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s/60%60)
}
