package reports_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/config"
	"github.com/ledgerline/ledgerline/load/local"
	"github.com/ledgerline/ledgerline/money"
	"github.com/ledgerline/ledgerline/pipeline"
)

// The sandbox warehouse shared by the tests: two accounts' nightly runs
// covering January to March 2025, built once, on first use.
type fixture struct {
	root  string
	acct  config.Account // the account reported on
	other config.Account // a second merchant in the same warehouse
	month civil.Date     // March 2025
}

var (
	fixtureOnce sync.Once
	fixtureVal  *fixture
	fixtureErr  error
	fixtureDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

func sandboxAccount(name, merchant string, seed int64, perDay int) config.Account {
	src, err := time.LoadLocation("Etc/GMT-2")
	if err != nil {
		panic(err)
	}
	return config.Account{
		Name: name, MerchantCode: merchant, SecretKey: "test-secret", API: config.APISandbox,
		HMAC: "sha256", SourceTimezone: src, ReportingTimezone: time.UTC, Currency: "USD", Concurrency: 4,
		TransactionStatuses: []string{"COMPLETE", "REFUND"},
		ChargebackFees: config.ChargebackFees{Model: config.FeeModelThreshold, Tiers: []config.Tier{
			{Below: big.NewRat(13, 2000), BelowText: "0.65%", Fee: money.FromInt(30)},
			{Fee: money.FromInt(50)},
		}},
		Sandbox: config.Sandbox{Seed: seed, OrdersPerDay: perDay, Since: civil.Date{Year: 2024, Month: 11, Day: 1}},
	}
}

// sandboxWarehouse returns the shared warehouse, building it on first use.
func sandboxWarehouse(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "ledgerline-reports-")
		if fixtureErr != nil {
			return
		}
		fx := &fixture{
			root:  fixtureDir,
			acct:  sandboxAccount("demo", "LLDEMO", 7, 60),
			other: sandboxAccount("other", "LLOTHER", 11, 20),
			month: civil.Date{Year: 2025, Month: 3, Day: 1},
		}
		job := config.Job{Name: "nightly", Timezone: time.UTC, Streams: []string{"orders", "subscriptions", "chargebacks"}}
		runs := []struct {
			acct     config.Account
			date     civil.Date
			lookback int
		}{
			{fx.acct, civil.Date{Year: 2025, Month: 2, Day: 28}, 59},
			{fx.other, civil.Date{Year: 2025, Month: 3, Day: 31}, 31},
			{fx.acct, civil.Date{Year: 2025, Month: 3, Day: 31}, 59},
		}
		for _, r := range runs {
			j := job
			j.Accounts, j.LookbackDays = []string{r.acct.Name}, r.lookback
			if err := runPipeline(context.Background(), fx.root, j, r.acct, r.date); err != nil {
				fixtureErr = err
				return
			}
		}
		fixtureVal = fx
	})
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixtureVal
}

func runPipeline(ctx context.Context, root string, job config.Job, acct config.Account, date civil.Date) error {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	src, closeSrc, err := pipeline.OpenSource(ctx, acct, date, job.Timezone, log)
	if err != nil {
		return err
	}
	defer closeSrc()
	id := fmt.Sprintf("run-%s-%s", acct.MerchantCode, date)
	dest, err := local.Open(root, acct.MerchantCode, id)
	if err != nil {
		return err
	}
	// The run's clock is the sandbox's: the night after date.
	at := date.AddDays(1).In(job.Timezone).Add(2 * time.Hour)
	r := &pipeline.Run{ID: id, Job: job, Account: acct, Date: date, Source: src, Destination: dest, Warehouse: dest, Logger: log,
		Now: func() time.Time { return at }}
	_, err = r.Execute(ctx)
	return err
}

// warehouse opens the fixture for reading.
func (fx *fixture) warehouse(t testing.TB) *local.Warehouse {
	t.Helper()
	d, err := local.OpenReader(fx.root)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
