package pipeline_test

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/pipeline"
)

// TestConcurrentJobsGiveASerialResult (issue 11, F9): two jobs on one
// account, running different dates at once into one local warehouse, leave
// the chargebacks of one serial order of the two runs. Each run reads the
// account's chargeback state under the account lock it commits under, so
// neither dates a dispute against a state the other is replacing.
func TestConcurrentJobsGiveASerialResult(t *testing.T) {
	acct := testAccount(t)
	acct.Sandbox.OrdersPerDay = 150
	acct.ChargebackFees = config.ChargebackFees{Model: config.FeeModelFixed, Fee: money.MustParse("25")}
	d1, d2 := civil.Date{Year: 2025, Month: 3, Day: 31}, civil.Date{Year: 2025, Month: 4, Day: 10}
	jobs := map[civil.Date]config.Job{}
	for name, d := range map[string]civil.Date{"nightly": d1, "catchup": d2} {
		job := testJob(30)
		job.Name = name
		job.Streams = []string{"orders", "chargebacks"}
		jobs[d] = job
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	runInto := func(root string, d civil.Date) error {
		job := jobs[d]
		job.Destination = config.Destination{Type: config.DestinationLocal, Local: &config.LocalDestination{Path: root}}
		_, err := pipeline.RunAccount(t.Context(), job, acct, d, pipeline.Options{Logger: log})
		return err
	}
	serial := map[string][]string{}
	for _, order := range [][2]civil.Date{{d1, d2}, {d2, d1}} {
		root := t.TempDir()
		for _, d := range order {
			if err := runInto(root, d); err != nil {
				t.Fatal(err)
			}
		}
		serial[fmt.Sprint(order)] = chargebackState(t, root)
	}
	first, second := serial[fmt.Sprint([2]civil.Date{d1, d2})], serial[fmt.Sprint([2]civil.Date{d2, d1})]
	for i := range 3 {
		root := t.TempDir()
		errs := make(chan error, 2)
		for _, d := range []civil.Date{d1, d2} {
			go func() { errs <- runInto(root, d) }()
		}
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got := chargebackState(t, root)
		if !slices.Equal(got, first) && !slices.Equal(got, second) {
			t.Fatalf("attempt %d: the concurrent runs left chargebacks no serial order gives; rows of neither:\n%s",
				i+1, strings.Join(slices.DeleteFunc(slices.Clone(got), func(r string) bool {
					return slices.Contains(first, r) || slices.Contains(second, r)
				}), "\n"))
		}
	}
}

// chargebackState renders the chargebacks at root, sorted, without the ids
// of the runs that wrote them.
func chargebackState(t *testing.T, root string) []string {
	t.Helper()
	return sortedRows(readChargebacks(t, root))
}
