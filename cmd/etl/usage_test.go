package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEveryFlagIsDocumented: every flag a command defines is in its
// synopsis (so in etl's usage and in its -h), in the README's Commands
// block (etl's usage, verbatim) and in a row of the README's flag table
// that names the command; every flag a synopsis names exists. Adding an
// undocumented flag fails here.
func TestEveryFlagIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	top := usage()
	body := top[strings.Index(top, "Usage:\n")+len("Usage:\n"):]
	body = body[:strings.Index(body, "\n\n")+1]
	if !strings.Contains(readme, "## Commands\n\n```\n"+body+"```\n") {
		t.Errorf("the README's Commands block is not etl's usage:\n%s", body)
	}
	for _, line := range strings.Split(top, "\n") {
		if len([]rune(line)) > 100 {
			t.Errorf("usage line of %d columns: %q", len([]rune(line)), line)
		}
	}
	var rows [][]string // the flag table's flag and commands cells
	for _, line := range strings.Split(readme, "\n") {
		if cells := strings.Split(line, "|"); strings.HasPrefix(line, "| `-") && len(cells) >= 4 {
			rows = append(rows, []string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])})
		}
	}
	documented := func(flag, cmd string) bool {
		return slices.ContainsFunc(rows, func(r []string) bool {
			return (strings.HasPrefix(r[0], "`"+flag+" ") || r[0] == "`"+flag+"`") &&
				(strings.Contains(r[1], "`"+cmd+"`") || r[1] == "every command")
		})
	}
	defined := regexp.MustCompile(`(?m)^  -(\S+)`)
	named := regexp.MustCompile(`(?:^|[\[ |])(-{1,2}[a-z][a-z-]*)`)
	for _, cmd := range commands() {
		if cmd.name == "version" {
			continue
		}
		t.Run(cmd.name, func(t *testing.T) {
			c, _, errb := newCLI(nil)
			if code := c.main(t.Context(), append(strings.Fields(cmd.name), "-h")); code != exitOK {
				t.Fatalf("-h: exit %d", code)
			}
			help := errb.String()
			if !strings.HasPrefix(help, "Usage: "+cmd.line()+"\n\n"+cmd.about+"\n") {
				t.Errorf("-h does not start with the synopsis:\n%s", help)
			}
			var flags []string
			for _, m := range defined.FindAllStringSubmatch(help, -1) {
				flag := "--" + m[1]
				if len(m[1]) == 1 {
					flag = "-" + m[1]
				}
				flags = append(flags, flag)
				if flag != "--log-level" && !slices.Contains(synopsisFlags(named, cmd.synopsis), flag) {
					t.Errorf("%s is not in the synopsis %q", flag, cmd.synopsis)
				}
				if !documented(flag, cmd.name) {
					t.Errorf("%s of %s has no row in the README's flag table", flag, cmd.name)
				}
			}
			for _, flag := range synopsisFlags(named, cmd.synopsis) {
				if !slices.Contains(flags, flag) {
					t.Errorf("the synopsis names %s, which %s does not define", flag, cmd.name)
				}
			}
		})
	}
}

func synopsisFlags(named *regexp.Regexp, synopsis string) []string {
	var out []string
	for _, m := range named.FindAllStringSubmatch(synopsis, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestHelpNamesTheEnvironment: the sandbox's -h names its secret and its
// default, and the commands that send reports name the sender.
func TestHelpNamesTheEnvironment(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"sandbox", "serve", "-h"}, []string{"LEDGERLINE_SANDBOX_SECRET", "default sandbox-demo-secret", "-faults SPEC"}},
		{[]string{"run", "-h"}, []string{"LEDGERLINE_SMTP_FROM", "ledgerline@localhost", "LEDGERLINE_SMTP_HOST"}},
		{[]string{"report", "accounting", "-h"}, []string{"LEDGERLINE_SMTP_FROM", "-out DIR"}},
		{[]string{"schedule", "-h"}, []string{"LEDGERLINE_SMTP_FROM", "POST /run?job=NAME"}},
		{[]string{"help"}, []string{"etl schedule [-c jobs.yaml] [--addr :9090]", "$LEDGERLINE_SANDBOX_SECRET", "--log-level"}},
	}
	for _, tt := range tests {
		c, out, errb := newCLI(nil)
		if code := c.main(t.Context(), tt.args); code != exitOK {
			t.Errorf("%v: exit %d", tt.args, code)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String()+errb.String(), w) {
				t.Errorf("%v lacks %q:\n%s%s", tt.args, w, out, errb)
			}
		}
	}
}
