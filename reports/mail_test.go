package reports_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/reports"
	"github.com/ledgerline/ledgerline/reports/mailtest"
)

// smtpServer is a real SMTP server on 127.0.0.1 for the tests: STARTTLS
// with a certificate of its own, AUTH PLAIN, and scripted failures.
type smtpServer struct {
	addr string
	port int
	ca   *x509.CertPool

	mu       sync.Mutex
	received []receivedMail
	attempts int // DATA commands
	// fail returns the reply to the n-th DATA (from 1), nil to accept.
	fail     func(n int) error
	rcptFail error
}

type receivedMail struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
}

type smtpSession struct {
	srv    *smtpServer
	conn   *smtp.Conn
	authed string
	from   string
	to     []string
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "reports@example.com" || password != "p4ss-w0rd-secret" {
			return errors.New("bad credentials")
		}
		s.authed = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.srv.rcptFail != nil {
		return s.srv.rcptFail
	}
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.attempts++
	if s.srv.fail != nil {
		if err := s.srv.fail(s.srv.attempts); err != nil {
			return err
		}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.received = append(s.srv.received, receivedMail{from: s.from, to: s.to, data: data, tls: isTLS, authed: s.authed})
	return nil
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }

// messages returns what the server has accepted so far.
func (srv *smtpServer) messages() []receivedMail {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]receivedMail(nil), srv.received...)
}

// startSMTP starts a server; withTLS offers STARTTLS.
func startSMTP(t *testing.T, withTLS bool) *smtpServer {
	t.Helper()
	srv := &smtpServer{}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{srv: srv, conn: c}, nil })
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxMessageBytes = 64 << 20
	if withTLS {
		cert, pool := selfSigned(t)
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.ca = pool
	} else {
		s.AllowInsecureAuth = true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = l.Addr().String()
	srv.port = l.Addr().(*net.TCPAddr).Port
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return srv
}

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ledgerline test SMTP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}

// smtpEnv is the environment of a Mailer for srv.
func (srv *smtpServer) env(security string) func(string) (string, bool) {
	env := map[string]string{
		reports.EnvSMTPHost: "127.0.0.1", reports.EnvSMTPPort: strings.TrimPrefix(srv.addr, "127.0.0.1:"),
		reports.EnvSMTPUser: "reports@example.com", reports.EnvSMTPPassword: "p4ss-w0rd-secret",
		reports.EnvSMTPFrom: "Ledgerline Reports <reports@example.com>", reports.EnvSMTPSecurity: security,
	}
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// mailer returns a Mailer for srv that trusts its certificate and logs to
// log.
func (srv *smtpServer) mailer(t *testing.T, security string, log *bytes.Buffer) *reports.Mailer {
	t.Helper()
	m, err := reports.MailerFromEnv(srv.env(security), t.TempDir(), slog.New(slog.NewJSONHandler(log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if m.SMTP == nil {
		t.Fatal("no SMTP settings from the environment")
	}
	m.SMTP.TLSConfig = &tls.Config{RootCAs: srv.ca, ServerName: "127.0.0.1"}
	m.SMTP.Timeout = 10 * time.Second
	m.Backoff = 10 * time.Millisecond
	return m
}

// buildReport builds the fixture's report into a new directory.
func buildReport(t *testing.T) *reports.Report {
	t.Helper()
	fx := sandboxWarehouse(t)
	rep, err := reports.Build(t.Context(), reports.Request{Warehouse: fx.warehouse(t), Account: fx.acct, Month: fx.month,
		RunID: "report-mail-test", Dir: t.TempDir(), Now: func() time.Time { return time.Date(2025, 4, 1, 6, 0, 3, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := reports.Reconcile(t.Context(), fx.warehouse(t), rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkMessage checks a delivered report message against rep and its files.
func checkMessage(t *testing.T, rep *reports.Report, p mailtest.Message, to []string) {
	t.Helper()
	if strings.Join(p.To, ",") != strings.Join(to, ",") {
		t.Errorf("To %v, want %v", p.To, to)
	}
	fee := regexp.MustCompile(`[\d,]+\.\d\d USD`).FindString(p.Subject)
	if want := "Accounting report demo (LLDEMO), March 2025: Total chargeback fee " + fee; p.Subject != want || fee == "" {
		t.Errorf("Subject %q", p.Subject)
	}
	tot := rep.Totals
	if fee != grouped(tot.ChargebackFees.String(), 2)+" USD" {
		t.Errorf("subject fee %s, report %s", fee, tot.ChargebackFees)
	}
	for _, body := range []string{p.Text, p.HTML} {
		if !strings.Contains(body, "Total chargeback fee: "+fee) {
			t.Errorf("body lacks the Total chargeback fee %s:\n%s", fee, body)
		}
		for _, c := range tot.Currencies {
			if c.Orders == 0 {
				continue
			}
			decimals := 2
			if c.Currency == "JPY" {
				decimals = 0
			}
			// Gross sales, refunds and sales after refunds, as on the Summary.
			for _, v := range []money.Amount{c.GrossSales.Paid, c.Refunded.Paid, c.AfterRefunds().Paid, c.AfterRefunds().Net} {
				if !strings.Contains(body, grouped(v.String(), decimals)) || !strings.Contains(body, c.Currency) {
					t.Errorf("body lacks %s amount %s:\n%s", c.Currency, v, body)
				}
			}
		}
	}
	if !strings.Contains(p.HTML, "<table") || strings.Contains(p.HTML, "&lt;table") {
		t.Error("HTML body has no table")
	}
	for name, path := range map[string]string{rep.WorkbookName(): rep.Workbook, reports.CSVName: rep.CSV} {
		onDisk, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := p.Attachments[name]; !ok || !bytes.Equal(got, onDisk) {
			t.Errorf("attachment %q: %d bytes (present %v), file on disk %d bytes: not identical", name, len(got), ok, len(onDisk))
		}
	}
	if p.Types[reports.CSVName] != "text/csv" || !strings.Contains(p.Types[rep.WorkbookName()], "spreadsheetml") {
		t.Errorf("attachment types %v", p.Types)
	}
}

// grouped formats a six-decimal amount with thousands separators and the
// given decimals (the sandbox's amounts have no more).
func grouped(s string, decimals int) string {
	a, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if rest, ok := strings.CutPrefix(a, "-"); ok {
		a = rest
		b.WriteByte('-')
	}
	for i, r := range a {
		if i > 0 && (len(a)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if decimals == 0 {
		return b.String()
	}
	return b.String() + "." + frac[:decimals]
}

// TestSendBySMTP sends a report through a real SMTP server with STARTTLS
// and AUTH, and reads back what it received.
func TestSendBySMTP(t *testing.T) {
	rep := buildReport(t)
	srv := startSMTP(t, true)
	var log bytes.Buffer
	m := srv.mailer(t, reports.SecuritySTARTTLS, &log)
	to := []string{"finance@example.com", "controller@example.com"}
	d, err := m.Deliver(t.Context(), rep, to)
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != "smtp" || d.Attempts != 1 || d.Path != "" {
		t.Errorf("delivery %+v", d)
	}
	if len(srv.messages()) != 1 {
		t.Fatalf("server received %d messages", len(srv.messages()))
	}
	got := srv.messages()[0]
	if !got.tls || got.authed != "reports@example.com" || got.from != "reports@example.com" || strings.Join(got.to, ",") != strings.Join(to, ",") {
		t.Errorf("envelope: tls %v, authenticated %q, from %q, to %v", got.tls, got.authed, got.from, got.to)
	}
	p := mailtest.Parse(t, got.data)
	checkMessage(t, rep, p, to)
	if p.Header.Get("Message-Id") == "" || p.Header.Get("Date") == "" || !strings.Contains(p.Header.Get("From"), "reports@example.com") {
		t.Errorf("headers %v", p.Header)
	}
	if strings.Contains(log.String(), "p4ss-w0rd-secret") {
		t.Error("the SMTP password was logged")
	}
	if !strings.Contains(log.String(), `"msg":"report sent"`) {
		t.Errorf("log: %s", log.String())
	}
	for _, f := range []string{rep.Workbook, rep.CSV} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("file gone after sending: %v", err)
		}
	}
}

// TestSendRetries: temporary refusals are retried with back-off; a send
// that keeps failing fails after the attempts, and a permanent refusal is
// not retried. The files stay either way; the password is never logged.
func TestSendRetries(t *testing.T) {
	rep := buildReport(t)
	temp := &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	perm := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	tests := []struct {
		name         string
		fail         func(n int) error
		rcptFail     error
		wantErr      bool
		wantAttempts int
		wantReceived int
	}{
		{"two temporary failures", func(n int) error {
			if n <= 2 {
				return temp
			}
			return nil
		}, nil, false, 3, 1},
		{"always failing", func(int) error { return temp }, nil, true, 3, 0},
		{"permanent refusal", nil, perm, true, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, true)
			srv.fail, srv.rcptFail = tt.fail, tt.rcptFail
			var log bytes.Buffer
			m := srv.mailer(t, reports.SecuritySTARTTLS, &log)
			m.Attempts = 3
			d, err := m.Deliver(t.Context(), rep, []string{"finance@example.com"})
			if (err != nil) != tt.wantErr || d.Attempts != tt.wantAttempts || len(srv.messages()) != tt.wantReceived {
				t.Errorf("err %v, attempts %d, received %d; want error %v, %d attempts, %d received", err, d.Attempts, len(srv.messages()), tt.wantErr, tt.wantAttempts, tt.wantReceived)
			}
			if err != nil && !strings.Contains(err.Error(), "attempts") {
				t.Errorf("error %q does not say how many attempts", err)
			}
			if strings.Contains(log.String()+fmtErr(err), "p4ss-w0rd-secret") {
				t.Error("the SMTP password leaked")
			}
			for _, f := range []string{rep.Workbook, rep.CSV} {
				if _, err := os.Stat(f); err != nil {
					t.Errorf("file gone after a failed send: %v", err)
				}
			}
		})
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSTARTTLSRequired: a server that does not offer STARTTLS gets nothing
// under the default security.
func TestSTARTTLSRequired(t *testing.T) {
	rep := buildReport(t)
	srv := startSMTP(t, false)
	var log bytes.Buffer
	m := srv.mailer(t, reports.SecuritySTARTTLS, &log)
	m.Attempts = 2
	if _, err := m.Deliver(t.Context(), rep, []string{"finance@example.com"}); err == nil {
		t.Fatal("sent without TLS")
	}
	if len(srv.messages()) != 0 {
		t.Error("the server received the message in plain text")
	}
	// Plain text only when asked for, e.g. a relay on the same host, and
	// then without credentials.
	env := srv.env(reports.SecurityNone)
	if _, err := reports.MailerFromEnv(env, t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Errorf("credentials over plain text: %v", err)
	}
	m, err := reports.MailerFromEnv(func(k string) (string, bool) {
		if k == reports.EnvSMTPUser || k == reports.EnvSMTPPassword {
			return "", false
		}
		return env(k)
	}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Deliver(t.Context(), rep, []string{"finance@example.com"}); err != nil {
		t.Fatal(err)
	}
	if len(srv.messages()) != 1 || srv.messages()[0].tls {
		t.Errorf("received %d messages", len(srv.messages()))
	}
}

// TestOutbox: without SMTP settings the message is written as an .eml file
// into the outbox, with the same content.
func TestOutbox(t *testing.T) {
	rep := buildReport(t)
	outbox := filepath.Join(t.TempDir(), "outbox")
	m, err := reports.MailerFromEnv(func(string) (string, bool) { return "", false }, outbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.SMTP != nil || m.From != reports.DefaultFrom {
		t.Fatalf("mailer %+v", m)
	}
	to := []string{"finance@example.com"}
	d, err := m.Deliver(t.Context(), rep, to)
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != "outbox" || filepath.Dir(d.Path) != outbox || !strings.HasSuffix(d.Path, ".eml") {
		t.Fatalf("delivery %+v", d)
	}
	raw, err := os.ReadFile(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	checkMessage(t, rep, mailtest.Parse(t, raw), to)
	// A second message of the same report, to other recipients, gets a
	// file of its own.
	d2, err := m.Deliver(t.Context(), rep, []string{"audit@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(outbox); len(entries) != 2 || d2.Path == d.Path {
		t.Errorf("outbox holds %d files; paths %s, %s", len(entries), d.Path, d2.Path)
	}
}

func TestMailerFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(*reports.Mailer) bool
	}{
		{"defaults", map[string]string{reports.EnvSMTPHost: "smtp.example.com", reports.EnvSMTPUser: "a@example.com", reports.EnvSMTPPassword: "pw"}, "",
			func(m *reports.Mailer) bool {
				return m.SMTP.Port == 587 && m.SMTP.Security == reports.SecuritySTARTTLS && m.From == "a@example.com"
			}},
		{"smtps", map[string]string{reports.EnvSMTPHost: "smtp.example.com", reports.EnvSMTPSecurity: "TLS"}, "",
			func(m *reports.Mailer) bool {
				return m.SMTP.Port == 465 && m.SMTP.Username == "" && m.From == reports.DefaultFrom
			}},
		{"port", map[string]string{reports.EnvSMTPHost: "h", reports.EnvSMTPPort: "2525", reports.EnvSMTPFrom: "x@example.com"}, "",
			func(m *reports.Mailer) bool { return m.SMTP.Port == 2525 && m.From == "x@example.com" }},
		{"no host", map[string]string{reports.EnvSMTPUser: "a"}, "", func(m *reports.Mailer) bool { return m.SMTP == nil }},
		{"bad port", map[string]string{reports.EnvSMTPHost: "h", reports.EnvSMTPPort: "x"}, "LEDGERLINE_SMTP_PORT", nil},
		{"bad security", map[string]string{reports.EnvSMTPHost: "h", reports.EnvSMTPSecurity: "ssl3"}, "LEDGERLINE_SMTP_SECURITY", nil},
		{"user without password", map[string]string{reports.EnvSMTPHost: "h", reports.EnvSMTPUser: "u"}, "LEDGERLINE_SMTP_PASSWORD", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := reports.MailerFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }, "out", nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(m) {
				t.Errorf("mailer %+v, smtp %+v, err %v", m, m.SMTP, err)
			}
			if m.SMTP != nil {
				var b bytes.Buffer
				slog.New(slog.NewTextHandler(&b, nil)).Info("x", "smtp", m.SMTP)
				if strings.Contains(b.String(), "pw") && tt.env[reports.EnvSMTPPassword] == "pw" {
					t.Errorf("log shows the password: %s", b.String())
				}
			}
		})
	}
}
