package pipeline_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
)

// wrapEnv makes this test binary a launcher instead of a test run: it runs
// its arguments as a command and writes that command's peak RSS in bytes
// to the file named by wrapRSSEnv. The nightly benchmark starts etl run
// through it because on Linux a child's rusage maxrss also counts the
// resident memory of the process it was forked from, at the moment it
// execs (the kernel keeps the old address space's high-water mark), and
// the benchmark process holds the fetch pass's and DuckDB's memory: with
// etl run started directly, a 200 MB run was reported as 990 MB.
const (
	wrapEnv    = "LEDGERLINE_BENCH_WRAP"
	wrapRSSEnv = "LEDGERLINE_BENCH_WRAP_RSS"
)

func TestMain(m *testing.M) {
	if os.Getenv(wrapEnv) == "1" {
		os.Exit(runWrapped(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func runWrapped(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = os.Environ()
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "bench launcher:", err)
		return 2
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "bench launcher: no rusage")
		return 2
	}
	if err := os.WriteFile(os.Getenv(wrapRSSEnv), []byte(strconv.FormatInt(ru.Maxrss*1024, 10)), 0o644); err != nil { // Linux: KiB
		fmt.Fprintln(os.Stderr, "bench launcher:", err)
		return 2
	}
	return cmd.ProcessState.ExitCode()
}

// wrapped returns cmd started through the launcher, and a function that
// reads its peak RSS after it has run.
func wrapped(tb testing.TB, cmd *exec.Cmd) (*exec.Cmd, func() int64) {
	rss := tb.TempDir() + "/rss"
	w := exec.Command(os.Args[0], append([]string{cmd.Path}, cmd.Args[1:]...)...)
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	w.Env = append(env, wrapEnv+"=1", wrapRSSEnv+"="+rss)
	w.Stdin, w.Stdout, w.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	return w, func() int64 {
		b, err := os.ReadFile(rss)
		if err != nil {
			tb.Fatalf("peak RSS of %s: %v", cmd.Path, err)
		}
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			tb.Fatalf("peak RSS of %s: %v", cmd.Path, err)
		}
		return n
	}
}
