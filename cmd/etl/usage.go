package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ledgerline/ledgerline/reports"
)

// command is one etl command as the usage texts show it: etl's own usage
// lists every command from these, and each command's -h shows its own, so
// the two cannot disagree (TestEveryFlagIsDocumented checks the flags).
type command struct {
	name     string // as typed after etl: "report accounting"
	synopsis string // its arguments and flags
	about    string // what it does
	env      string // the environment variables it reads, for its -h
}

// smtpEnv is the environment of the commands that send reports.
func smtpEnv() string {
	return fmt.Sprintf(`  %s, _PORT, _USER, _PASSWORD, _SECURITY
        SMTP server of the reports (without %s, messages go to the report's outbox folder)
  %s
        sender address of the reports (default: %s if it is an address, else %s)`,
		reports.EnvSMTPHost, reports.EnvSMTPHost, reports.EnvSMTPFrom, reports.EnvSMTPUser, reports.DefaultFrom)
}

// commands returns etl's commands, in the order the usage lists them.
func commands() []command {
	return []command{
		{name: "validate", synopsis: "[-c jobs.yaml]", about: "check the configuration"},
		{name: "check", synopsis: "[-c jobs.yaml] [ACCOUNT...]",
			about: "read-only checks of each account's API before its first night"},
		{name: "run", synopsis: "JOB [-c jobs.yaml] [--date YYYY-MM-DD] [--account NAME]... [--stream STREAMS]... " +
			"[--full-refresh] [--json] [--reports-dir DIR] [--lock-dir DIR] [--pushgateway URL]",
			about: "run a job (or some of its accounts and streams) for one business date", env: smtpEnv()},
		{name: "backfill", synopsis: "JOB --from YYYY-MM-DD --to YYYY-MM-DD [-c jobs.yaml] [--account NAME]... " +
			"[--parallel N] [--force] [--keep-going] [--json] [--lock-dir DIR] [--pushgateway URL]",
			about: "run a job for every date of a range; resumable"},
		{name: "schedule", synopsis: "[-c jobs.yaml] [--addr :9090] [--grace 5m] [--job NAME]... [--run-now JOB]... [--lock-dir DIR]",
			about: "catch up missed dates, then run every job on its schedule until SIGTERM", env: smtpEnv()},
		{name: "runs", synopsis: "[-c jobs.yaml] [--job NAME] [--account NAME] [--since YYYY-MM-DD] [--json]",
			about: "list the runs recorded in etl_runs"},
		{name: "status", synopsis: "[-c jobs.yaml] [--job NAME] [--json]",
			about: "per job and account: last success, lag, next run, last error"},
		{name: "report accounting", synopsis: "--month YYYY-MM [-c jobs.yaml] [--job NAME] [--account NAME] " +
			"[--reports-dir DIR | --out DIR] [--no-send] [--allow-incomplete] [--resend]",
			about: "build, reconcile and send the accounting workbook", env: smtpEnv()},
		{name: "sandbox serve", synopsis: "[--addr 127.0.0.1:8080] [--seed N] [--orders-per-day N] [--merchant-code CODE] " +
			"[--since YYYY-MM-DD] [--timezone ZONE] [--faults SPEC] [--dialect NAMES]",
			about: "serve the simulated 2Checkout merchant (its secret key: $LEDGERLINE_SANDBOX_SECRET)",
			env: `  LEDGERLINE_SANDBOX_SECRET
        the secret key the sandbox accepts (default sandbox-demo-secret, as in jobs.yaml)`},
		{name: "version", about: "print the version"},
	}
}

// commandNamed returns the command name; it panics for an unknown one, a
// mistake in this package.
func commandNamed(name string) command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	panic("etl: no command " + name)
}

// line returns the command's synopsis, wrapped to 100 columns.
func (c command) line() string {
	return wrap(strings.TrimSpace("etl "+c.name+" "+c.synopsis), 98, "      ")
}

// usage is etl's usage: every command, and what all commands share.
func usage() string {
	var b strings.Builder
	b.WriteString("etl: ledgerline, the 2Checkout ETL and accounting job\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %s\n        %s\n", c.line(), c.about)
	}
	b.WriteString(`
Every command takes --log-level debug|info|warn|error (default info).
Run 'etl COMMAND -h' for what each flag does.
Environment: GOMEMLIMIT (default 160MiB; off for none), LEDGERLINE_CPUPROFILE=FILE,
LEDGERLINE_MEMPROFILE=FILE; the report sender's LEDGERLINE_SMTP_* (see 'etl run -h').
Exit codes: 0 success, 1 run failed, 2 bad usage or configuration,
3 another run of the job and account is in progress.
`)
	return b.String()
}

// wrap breaks s into lines of at most width columns at the spaces outside
// brackets, so that "[--date YYYY-MM-DD]" stays on one line, indenting
// the lines after the first.
func wrap(s string, width int, indent string) string {
	var words []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case ' ':
			if depth == 0 {
				words = append(words, s[start:i])
				start = i + 1
			}
		}
	}
	words = append(words, s[start:])
	var b strings.Builder
	col := 0
	for i, w := range words {
		switch {
		case i == 0:
		case col+1+len(w) > width:
			b.WriteString("\n" + indent)
			col = len(indent)
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// flagSet returns the FlagSet of the command name (see commands), which
// reports to stderr and documents itself: synopsis, what the command
// does, its flags and its environment.
func (c *cli) flagSet(name string) *flag.FlagSet {
	cmd := commandNamed(name)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.TextVar(&c.level, "log-level", slog.LevelInfo, "least `level` logged: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: %s\n\n%s\n\nFlags:\n", cmd.line(), cmd.about)
		fs.PrintDefaults()
		if cmd.env != "" {
			fmt.Fprintf(c.stderr, "\nEnvironment:\n%s\n", cmd.env)
		}
	}
	return fs
}
