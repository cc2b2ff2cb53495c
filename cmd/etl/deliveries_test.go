package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/load"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/reports/mailtest"
	"github.com/ledgerline/ledgerline/schemas"
)

// TestReportIsSentOncePerFigures is issue 14 finding 6: a report run again
// with the same figures sends nothing and says so; a report whose figures
// changed goes out REVISED, naming the figures that changed; --resend
// sends it anyway; report_deliveries records each message.
func TestReportIsSentOncePerFigures(t *testing.T) {
	dir := t.TempDir()
	outbox := filepath.Join(dir, "outbox")
	path, warehouse := writeConfig(t, strings.ReplaceAll(reportConfig, "OUTBOX", outbox))
	env := map[string]string{"CLI_SECRET": "s3cr3t-value"}
	now := time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)
	step := func(args ...string) string {
		t.Helper()
		c, out, errb := newCLI(env)
		now = now.Add(time.Minute)
		at := now
		c.now = func() time.Time { return at }
		if code := c.main(t.Context(), append(args, "-c", path)); code != exitOK {
			t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errb)
		}
		return out.String()
	}
	emls := func() []string {
		m, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		slices.Sort(m)
		return m
	}
	orders := regexp.MustCompile(`: (\d+) orders, `)
	report := []string{"report", "accounting", "--month", "2025-03", "--out", filepath.Join(dir, "reports"), "--allow-incomplete"}

	step("run", "nightly", "--date", "2025-03-20")
	first := step(report...)
	if n := len(emls()); n != 1 || !strings.Contains(first, "("+"first)") {
		t.Fatalf("first report: %d messages\n%s", n, first)
	}
	again := step(report...)
	if n := len(emls()); n != 1 {
		t.Errorf("the same report run twice left %d messages, want 1", n)
	}
	if !strings.Contains(again, "not sent to finance@example.com, audit@example.com: the same figures went to them at 2025-04-01T09:02:00Z") {
		t.Errorf("second report run does not say it sent nothing:\n%s", again)
	}

	step("run", "nightly", "--date", "2025-03-31")
	revised := step(report...)
	if n := len(emls()); n != 2 || !strings.Contains(revised, "(revised)") {
		t.Fatalf("report after new data: %d messages\n%s", n, revised)
	}
	msg := readEML(t, emls()[1])
	if s := msg.subject; !strings.HasPrefix(s, "REVISED Accounting report demo (LLCLI), March 2025") || strings.Contains(s, "PROVISIONAL") {
		t.Errorf("revised subject: %s", s)
	}
	was, now2 := orders.FindStringSubmatch(first), orders.FindStringSubmatch(revised)
	for _, want := range []string{
		"This report revises the one sent 2025-04-01 ",
		"Data complete: NO, PROVISIONAL, now yes",
		"Orders: " + was[1] + ", now " + now2[1],
	} {
		if !strings.Contains(msg.text, want) {
			t.Errorf("revised body lacks %q:\n%s", want, msg.text)
		}
	}
	if was[1] == now2[1] {
		t.Errorf("orders %s before and after the month's last days were read", was[1])
	}

	resent := step(append(report, "--resend")...)
	if n := len(emls()); n != 3 || !strings.Contains(resent, "(resent)") {
		t.Fatalf("--resend: %d messages\n%s", n, resent)
	}
	if s := readEML(t, emls()[2]).subject; strings.HasPrefix(s, "REVISED") {
		t.Errorf("resent subject: %s", s)
	}

	// The record, read back from the warehouse.
	wh, err := local.OpenReader(warehouse)
	if err != nil {
		t.Fatal(err)
	}
	var rows []schemas.ReportDelivery
	err = wh.Read(t.Context(), schemas.ReportDeliveries(), load.Span{Merchant: "LLCLI"}, func(row any) error {
		rows = append(rows, *row.(*schemas.ReportDelivery))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rows, func(a, b schemas.ReportDelivery) int { return a.SentAt.Compare(b.SentAt) })
	if len(rows) != 3 {
		t.Fatalf("report_deliveries holds %d rows, want 3: %+v", len(rows), rows)
	}
	for i, want := range []struct {
		kind        string
		provisional bool
		sent        string
	}{{"first", true, "09:02"}, {"revised", false, "09:05"}, {"resent", false, "09:06"}} {
		r := rows[i]
		m := readEML(t, emls()[i])
		if r.Kind != want.kind || r.Provisional != want.provisional || r.SentAt.Format("15:04") != want.sent ||
			r.Recipients != "audit@example.com,finance@example.com" || r.Account != "demo" || r.Report != "accounting" ||
			r.Month.String() != "2025-03-01" || r.Method != "outbox" || r.MessageID != m.id || len(r.Digest) != 64 {
			t.Errorf("delivery %d = %s %v %v %s %s (message %s), want %+v", i+1, r.Kind, r.Provisional, r.SentAt, r.Recipients, r.MessageID, m.id, want)
		}
		figs, err := reports.DecodeFigures(r.Figures)
		if err != nil || len(figs) < 10 || figs[1].Name != "Orders" {
			t.Errorf("delivery %d figures %v, %v", i+1, figs, err)
		}
	}
	if rows[0].Digest == rows[1].Digest || rows[1].Digest != rows[2].Digest {
		t.Errorf("digests %s %s %s: want the revision's to differ and the resend's to equal it", rows[0].Digest, rows[1].Digest, rows[2].Digest)
	}
}

type eml struct{ subject, id, text string }

// readEML reads an outbox message: its subject, Message-ID and plain-text
// body.
func readEML(t *testing.T, path string) eml {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := mailtest.Parse(t, raw)
	return eml{subject: m.Subject, id: m.Header.Get("Message-ID"), text: m.Text}
}
