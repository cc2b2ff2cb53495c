package reports

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	mail "github.com/wneessen/go-mail"
)

// The environment variables of the SMTP settings. Without
// LEDGERLINE_SMTP_HOST, messages are written to the outbox instead.
const (
	EnvSMTPHost     = "LEDGERLINE_SMTP_HOST"
	EnvSMTPPort     = "LEDGERLINE_SMTP_PORT"     // default by security: 587, 465 or 25
	EnvSMTPUser     = "LEDGERLINE_SMTP_USER"     // empty: no authentication
	EnvSMTPPassword = "LEDGERLINE_SMTP_PASSWORD" // never logged
	EnvSMTPFrom     = "LEDGERLINE_SMTP_FROM"     // default: the user, or ledgerline@localhost
	EnvSMTPSecurity = "LEDGERLINE_SMTP_SECURITY" // starttls (default) | tls | none
)

// Connection security of the SMTP settings.
const (
	// SecuritySTARTTLS upgrades the connection with STARTTLS and refuses a
	// server that does not offer it.
	SecuritySTARTTLS = "starttls"
	// SecurityTLS connects with TLS from the start (SMTPS, port 465).
	SecurityTLS = "tls"
	// SecurityNone sends in plain text, for a relay on the same host only.
	SecurityNone = "none"
)

// DefaultFrom is the sender without settings.
const DefaultFrom = "ledgerline <ledgerline@localhost>"

// SMTP is how to reach the mail server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password config.Secret
	// Security is SecuritySTARTTLS, SecurityTLS or SecurityNone.
	Security string
	// TLSConfig replaces the default TLS settings (which verify the
	// server's certificate for Host), e.g. to trust a private CA.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command; 0 means 30 seconds.
	Timeout time.Duration
}

// LogValue implements slog.LogValuer: where, never the password.
func (s *SMTP) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", s.Host), slog.Int("port", s.Port),
		slog.String("user", s.Username), slog.String("security", s.Security))
}

// MailerFromEnv returns a Mailer that sends by SMTP when LEDGERLINE_SMTP_HOST
// is set, and otherwise writes .eml files into outbox.
func MailerFromEnv(getenv func(string) (string, bool), outbox string, log *slog.Logger) (*Mailer, error) {
	env := func(k string) string {
		v, _ := getenv(k)
		return strings.TrimSpace(v)
	}
	m := &Mailer{Outbox: outbox, From: env(EnvSMTPFrom), Logger: log}
	host := env(EnvSMTPHost)
	if host == "" {
		if m.From == "" {
			m.From = DefaultFrom
		}
		return m, nil
	}
	s := &SMTP{Host: host, Username: env(EnvSMTPUser), Security: strings.ToLower(env(EnvSMTPSecurity))}
	if p, ok := getenv(EnvSMTPPassword); ok {
		s.Password = config.Secret(p)
	}
	if s.Security == "" {
		s.Security = SecuritySTARTTLS
	}
	switch s.Security {
	case SecuritySTARTTLS:
		s.Port = 587
	case SecurityTLS:
		s.Port = 465
	case SecurityNone:
		s.Port = 25
	default:
		return nil, fmt.Errorf("%s=%q: want %s, %s or %s", EnvSMTPSecurity, s.Security, SecuritySTARTTLS, SecurityTLS, SecurityNone)
	}
	if p := env(EnvSMTPPort); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%s=%q: want a port number", EnvSMTPPort, p)
		}
		s.Port = n
	}
	if s.Username != "" && s.Password == "" {
		return nil, fmt.Errorf("%s is set but %s is not", EnvSMTPUser, EnvSMTPPassword)
	}
	if s.Username != "" && s.Security == SecurityNone {
		return nil, fmt.Errorf("%s with %s=%s would send the password in clear text; use %s or %s",
			EnvSMTPUser, EnvSMTPSecurity, SecurityNone, SecuritySTARTTLS, SecurityTLS)
	}
	if m.From == "" {
		m.From = s.Username
		if !strings.Contains(m.From, "@") {
			m.From = DefaultFrom
		}
	}
	m.SMTP = s
	return m, nil
}

// Mailer delivers reports: by SMTP, or as .eml files in an outbox
// directory when it has no SMTP settings.
type Mailer struct {
	// SMTP is nil to write to the outbox.
	SMTP *SMTP
	// Outbox is the directory of .eml files; empty means
	// config.DefaultOutbox.
	Outbox string
	// From is the sender.
	From string
	// Attempts is the most SMTP tries of one message; 0 means 3. A
	// permanent refusal (a 5xx reply) is not retried.
	Attempts int
	// Backoff is the wait after the first failed try, doubling after each;
	// 0 means 10 seconds.
	Backoff time.Duration
	Logger  *slog.Logger
}

// Delivery says how a report went out.
type Delivery struct {
	// Method is "smtp" or "outbox".
	Method string
	// Path is the .eml file, for the outbox.
	Path      string
	To        []string
	Subject   string
	MessageID string
	Attempts  int
	// Kind is set by the caller that keeps the record of deliveries:
	// first, revised or resent.
	Kind string
}

// Deliver sends rep's workbook and CSV to the recipients, with the month's
// totals in a plain-text and an HTML body. By SMTP, a failed try is retried
// up to Attempts with back-off, then Deliver fails; the report's files stay
// where they are either way.
func (m *Mailer) Deliver(ctx context.Context, rep *Report, to []string) (Delivery, error) {
	if len(to) == 0 {
		return Delivery{}, errors.New("reports: no recipients")
	}
	for _, p := range []string{rep.Workbook, rep.CSV} {
		if _, err := os.Stat(p); err != nil {
			return Delivery{}, fmt.Errorf("reports: attachment: %w", err)
		}
	}
	msg, err := message(rep, m.from(), to)
	if err != nil {
		return Delivery{}, fmt.Errorf("reports: message: %w", err)
	}
	d := Delivery{To: to, Subject: subject(rep), MessageID: msg.GetMessageID()}
	if m.SMTP == nil {
		d.Method = "outbox"
		d.Path, err = m.writeOutbox(rep, msg)
		return d, err
	}
	d.Method = "smtp"
	d.Attempts, err = m.send(ctx, msg)
	return d, err
}

func (m *Mailer) from() string {
	if m.From == "" {
		return DefaultFrom
	}
	return m.From
}

func (m *Mailer) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// writeOutbox writes msg as an .eml file into the outbox.
func (m *Mailer) writeOutbox(rep *Report, msg *mail.Msg) (string, error) {
	dir := m.Outbox
	if dir == "" {
		dir = config.DefaultOutbox
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("reports: outbox: %w", err)
	}
	base := fmt.Sprintf("accounting-%s-%s-%s", rep.Account.Name, MonthLabel(rep.Month), rep.GeneratedAt.UTC().Format("20060102T150405Z"))
	path := filepath.Join(dir, base+".eml")
	// Another message of the same report (other recipients) keeps its file.
	for n := 2; ; n++ {
		if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
			break
		}
		path = filepath.Join(dir, fmt.Sprintf("%s-%d.eml", base, n))
	}
	err := writeFileAtomic(path, func(f *os.File) error {
		_, err := msg.WriteTo(f)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("reports: outbox: %w", err)
	}
	m.logger().Info("report written to the outbox", "path", path)
	return path, nil
}

// send tries to send msg by SMTP, retrying failures that may pass.
func (m *Mailer) send(ctx context.Context, msg *mail.Msg) (int, error) {
	s := m.SMTP
	attempts, backoff := m.Attempts, m.Backoff
	if attempts <= 0 {
		attempts = 3
	}
	if backoff <= 0 {
		backoff = 10 * time.Second
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout)}
	tlsConf := s.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	switch s.Security {
	case SecurityTLS:
		opts = append(opts, mail.WithSSL(), mail.WithTLSConfig(tlsConf))
	case SecurityNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tlsConf))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.Username), mail.WithPassword(s.Password.Reveal()))
	} else {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthNoAuth))
	}
	log := m.logger().With("smtp", s)
	var err error
	for attempt := 1; ; attempt++ {
		var c *mail.Client
		c, err = mail.NewClient(s.Host, opts...)
		if err != nil {
			return attempt, fmt.Errorf("reports: smtp: %w", err)
		}
		if err = c.DialAndSendWithContext(ctx, msg); err == nil {
			log.Info("report sent", "attempt", attempt, "message_id", msg.GetMessageID())
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, fmt.Errorf("reports: smtp: %w", ctx.Err())
		}
		if permanent(err) || attempt >= attempts {
			return attempt, fmt.Errorf("reports: smtp %s:%d: sending failed after %d attempts: %w", s.Host, s.Port, attempt, err)
		}
		wait := backoff << (attempt - 1)
		log.Warn("sending failed; retrying", "attempt", attempt, "wait", wait.String(), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, fmt.Errorf("reports: smtp: %w", ctx.Err())
		case <-t.C:
		}
	}
}

// permanent reports whether err is a refusal that a retry would meet
// again: a 5xx reply.
func permanent(err error) bool {
	var se *mail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode() >= 500
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

// subject is the message's subject.
func subject(rep *Report) string {
	t := &rep.Totals
	s := fmt.Sprintf("Accounting report %s (%s), %s: Total chargeback fee %s %s",
		rep.Account.Name, rep.Account.MerchantCode, monthName(rep.Month), groupedAmount(t.ChargebackFees, t.FeeCurrency), t.FeeCurrency)
	if !t.Complete {
		s = "PROVISIONAL " + s
	}
	if rep.Revision != nil {
		s = "REVISED " + s
	}
	return s
}

// revisionLines describes rep's revision for the message body; nil when it
// revises nothing.
func revisionLines(rep *Report) []string {
	r := rep.Revision
	if r == nil {
		return nil
	}
	lines := []string{fmt.Sprintf("This report revises the one sent %s (%s). Changed figures:", r.SentAt, r.MessageID)}
	for _, c := range r.Changes {
		old, cur := c.Old, c.New
		if old == "" {
			old = "(not stated)"
		}
		if cur == "" {
			cur = "(no longer stated)"
		}
		lines = append(lines, fmt.Sprintf("%s: %s, now %s", c.Name, old, cur))
	}
	return lines
}

// message builds the message of rep.
func message(rep *Report, from string, to []string) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, err
	}
	if err := msg.To(to...); err != nil {
		return nil, err
	}
	msg.Subject(subject(rep))
	msg.SetDateWithValue(rep.GeneratedAt)
	msg.SetMessageID()
	msg.SetUserAgent("ledgerline")
	text, html, err := bodies(rep)
	if err != nil {
		return nil, err
	}
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	msg.AttachFile(rep.Workbook, mail.WithFileName(rep.WorkbookName()),
		mail.WithFileContentType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
	msg.AttachFile(rep.CSV, mail.WithFileName(CSVName), mail.WithFileContentType("text/csv; charset=utf-8"))
	if n := len(msg.GetAttachments()); n != 2 {
		return nil, fmt.Errorf("%d attachments, want 2", n)
	}
	return msg, nil
}

// refundsNote defines the body's revenue columns.
const refundsNote = " Gross sales are the COMPLETE and REFUND orders at their full amount, refunds the REFUND orders (negative); sales after refunds are their sum, as on the Summary."

// bodyLine is one currency's line of the message body.
type bodyLine struct {
	Currency string
	// Sales and Disputes are counts with thousands separators.
	Sales, Disputes string
	// Gross sales + Refunds = After (sales after refunds, incl. VAT), as
	// on the Summary.
	Gross, Refunds, After, Net, Commission, Disputed, Fee string
}

// bodies renders the plain-text and HTML bodies.
func bodies(rep *Report) (string, string, error) {
	t, a := &rep.Totals, rep.Account
	fee := groupedAmount(t.ChargebackFees, t.FeeCurrency) + " " + t.FeeCurrency
	var lines []bodyLine
	for _, c := range t.Currencies {
		am := func(v money.Amount) string { return groupedAmount(v, c.Currency) }
		lines = append(lines, bodyLine{
			Currency: c.Currency, Sales: groupedCount(c.Orders), Disputes: groupedCount(c.Disputes),
			Gross: am(c.GrossSales.Paid), Refunds: am(c.Refunded.Paid), After: am(c.AfterRefunds().Paid),
			Net: am(c.AfterRefunds().Net), Commission: am(c.AfterRefunds().Commission),
			Disputed: am(c.Disputed), Fee: groupedAmount(c.Fees, t.FeeCurrency),
		})
	}
	var bases []string
	for _, b := range t.FeeBases {
		s := fmt.Sprintf("%s %s per dispute", groupedAmount(b.Fee, t.FeeCurrency), t.FeeCurrency)
		if b.Rate != nil {
			s += fmt.Sprintf(", set by the %s chargeback rate %s (%s)", b.RateMonth, percentText(*b.Rate), b.Tier)
		} else if b.Tier != "" {
			s += " (" + b.Tier + ")"
		}
		if b.Disputes > 0 {
			s += fmt.Sprintf(", %s disputes", groupedCount(b.Disputes))
		}
		bases = append(bases, s)
	}
	period := fmt.Sprintf("%s to %s, %s", rep.Month, LastOfMonth(rep.Month), a.ReportingTimezone)
	attached := []string{rep.WorkbookName(), CSVName}
	generated := rep.GeneratedAt.In(a.ReportingTimezone).Format("2006-01-02 15:04:05 MST")

	var tb strings.Builder
	fmt.Fprintf(&tb, "Accounting report for %s (merchant %s), %s (%s).\n", a.Name, a.MerchantCode, monthName(rep.Month), period)
	fmt.Fprintf(&tb, "Data complete: %s.\n\n", completeness(rep))
	revision := revisionLines(rep)
	for i, l := range revision {
		if i > 0 {
			tb.WriteString("  ")
		}
		tb.WriteString(l + "\n")
	}
	if revision != nil {
		tb.WriteString("\n")
	}
	fmt.Fprintf(&tb, "Total chargeback fee: %s (%s disputes opened)\n", fee, groupedCount(t.Disputes))
	for _, b := range bases {
		fmt.Fprintf(&tb, "  %s\n", b)
	}
	acct := accountLine(rep)
	fmt.Fprintf(&tb, "%s\n\n", acct)
	tw := tabwriter.NewWriter(&tb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "Currency\tSales\tGross sales\tRefunds\tSales after refunds\tNet after refunds (excl. VAT)\t2Checkout commission after refunds\tChargebacks\tDisputed\tTotal chargeback fee (%s)\t\n", t.FeeCurrency)
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", l.Currency, l.Sales, l.Gross, l.Refunds, l.After, l.Net, l.Commission, l.Disputes, l.Disputed, l.Fee)
	}
	if err := tw.Flush(); err != nil {
		return "", "", err
	}
	fmt.Fprintf(&tb, "\nSales are the month's non-test orders with status %s. Amounts are in each line's currency; chargeback fees in %s."+refundsNote+"\n",
		strings.Join(a.TransactionStatuses, " or "), t.FeeCurrency)
	fmt.Fprintf(&tb, "Attached: %s.\n", strings.Join(attached, ", "))
	fmt.Fprintf(&tb, "Report run %s, generated %s; reconciled with the warehouse.\n", rep.RunID, generated)

	tmpl, err := template.New("body").Parse(htmlBody)
	if err != nil {
		return "", "", err
	}
	var hb bytes.Buffer
	err = tmpl.Execute(&hb, map[string]any{
		"Account": a.Name, "Merchant": a.MerchantCode, "Month": monthName(rep.Month), "Period": period,
		"Fee": fee, "Disputes": groupedCount(t.Disputes), "Bases": bases, "FeeCurrency": t.FeeCurrency, "Lines": lines,
		"Statuses": strings.Join(a.TransactionStatuses, " or "), "Attached": attached,
		"RunID": rep.RunID, "Generated": generated, "Complete": completeness(rep), "Revision": revision, "AccountLine": acct,
	})
	return tb.String(), hb.String(), err
}

// accountLine is the body's sentence on the month in the account currency:
// its net payout and the month before's.
func accountLine(rep *Report) string {
	t := &rep.Totals
	c, p := t.Converted, t.Previous
	fc := rep.Account.Currency
	am := func(v money.Amount) string { return groupedAmount(v, fc) + " " + fc }
	s := fmt.Sprintf("In %s (each order at its own FX rate): sales after refunds %s, net after refunds %s, net payout %s",
		fc, am(c.AfterRefunds().Paid), am(c.AfterRefunds().Net), am(c.NetPayout()))
	if c.Unconverted > 0 {
		s += fmt.Sprintf(", leaving out %d orders not converted", c.Unconverted)
	}
	if p.HasData {
		s += fmt.Sprintf("; %s: net payout %s", monthName(p.Month), am(p.Totals.NetPayout()))
	} else {
		s += fmt.Sprintf("; %s: %s", monthName(p.Month), noPreviousData)
	}
	return s + "."
}

// percentText formats a rate as a percentage without trailing zeros:
// 0.65%, 0.8450704%.
func percentText(r money.Rate) string {
	p := strings.TrimSuffix(r.Percent(), "%")
	return trimDecimal(p) + "%"
}

const htmlBody = `<!DOCTYPE html>
<html><body style="font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #222">
<p>Accounting report for <b>{{.Account}}</b> (merchant {{.Merchant}}), <b>{{.Month}}</b> ({{.Period}}).<br>
Data complete: {{.Complete}}.</p>
{{with .Revision}}<p style="color: #9C0006"><b>{{index . 0}}</b></p>
<ul>{{range $i, $l := .}}{{if $i}}<li>{{$l}}</li>{{end}}{{end}}</ul>
{{end}}<p style="font-size: 16px"><b>Total chargeback fee: {{.Fee}}</b> ({{.Disputes}} disputes opened)</p>
<ul>{{range .Bases}}<li>{{.}}</li>{{end}}</ul>
<p><b>{{.AccountLine}}</b></p>
<table cellpadding="4" cellspacing="0" style="border-collapse: collapse; font-size: 13px">
<tr style="background: #DDEBF7; text-align: right"><th style="text-align: left">Currency</th><th>Sales</th><th>Gross sales</th><th>Refunds</th><th>Sales after refunds</th><th>Net after refunds (excl. VAT)</th><th>2Checkout commission after refunds</th><th>Chargebacks</th><th>Disputed</th><th>Total chargeback fee ({{.FeeCurrency}})</th></tr>
{{range .Lines}}<tr style="text-align: right; border-bottom: 1px solid #ddd"><td style="text-align: left">{{.Currency}}</td><td>{{.Sales}}</td><td>{{.Gross}}</td><td>{{.Refunds}}</td><td>{{.After}}</td><td>{{.Net}}</td><td>{{.Commission}}</td><td>{{.Disputes}}</td><td>{{.Disputed}}</td><td>{{.Fee}}</td></tr>
{{end}}</table>
<p style="color: #595959">Sales are the month's non-test orders with status {{.Statuses}}. Amounts are in each line's currency; chargeback fees in {{.FeeCurrency}}.` + refundsNote + `<br>
Attached: {{range $i, $a := .Attached}}{{if $i}}, {{end}}{{$a}}{{end}}.<br>
Report run {{.RunID}}, generated {{.Generated}}; reconciled with the warehouse.</p>
</body></html>
`
