package faults_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ledgerline/ledgerline/extract/faults"
)

// TestParse parses specifications, good and bad, and requires String to
// give back a specification that parses to the same faults.
func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want faults.Spec
		err  string // in the error; empty for success
	}{
		{"", faults.Spec{}, ""},
		{"none", faults.Spec{}, ""},
		{"429=0.1,500=0.05,slow=0.05:200ms,truncate=0.02,malformed=0.02,expire=0.01,insert=3", faults.Spec{
			TooManyRequests: 0.1, ServerError: 0.05, Slow: 0.05, SlowDelay: 200 * time.Millisecond,
			Truncate: 0.02, Malformed: 0.02, Expire: 0.01, Insert: 3,
		}, ""},
		{" 429=5%:3s , seed=-7 ", faults.Spec{TooManyRequests: 0.05, RetryAfter: 3 * time.Second, Seed: -7}, ""},
		{"500=1", faults.Spec{ServerError: 1}, ""},
		{"429", faults.Spec{}, "want name=value"},
		{"429=", faults.Spec{}, "want name=value"},
		{"429=2", faults.Spec{}, "not within 0 to 1"},
		{"429=abc", faults.Spec{}, "want a share"},
		{"500=0.1:1s", faults.Spec{}, "takes no delay"},
		{"slow=0.1:-1s", faults.Spec{}, "negative delay"},
		{"slow=0.1:fast", faults.Spec{}, "slow=0.1:fast"},
		{"insert=-1", faults.Spec{}, "negative count"},
		{"insert=many", faults.Spec{}, "insert=many"},
		{"seed=x", faults.Spec{}, "seed=x"},
		{"teapot=0.1", faults.Spec{}, `unknown fault "teapot"`},
		{"429=0.1,429=0.2", faults.Spec{}, "429 given twice"},
		{"429=0.6,500=0.3,truncate=0.2", faults.Spec{}, "more than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := faults.Parse(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			again, err := faults.Parse(got.String())
			if err != nil || again != got {
				t.Errorf("String %q parses as %+v, %v", got.String(), again, err)
			}
		})
	}
}
