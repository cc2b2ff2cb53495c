package config

import (
	"reflect"
	"testing"
)

func TestNarrow(t *testing.T) {
	job := Job{Name: "nightly", Accounts: []string{"demo", "acme", "beta"}, Streams: []string{"orders", "subscriptions", "chargebacks"}}
	tests := []struct {
		name              string
		accounts, streams []string
		wantAccounts      []string
		wantStreams       []string
		err               string
	}{
		{"nothing narrows nothing", nil, nil, job.Accounts, job.Streams, ""},
		{"accounts keep the job's order", []string{"beta", "demo", "beta"}, nil, []string{"demo", "beta"}, job.Streams, ""},
		{"repeated streams", nil, []string{"subscriptions", "orders"}, job.Accounts, []string{"orders", "subscriptions"}, ""},
		{"comma list", nil, []string{"chargebacks, orders"}, job.Accounts, []string{"orders", "chargebacks"}, ""},
		{"misspelt account", []string{"acm"}, nil, nil, nil, `job nightly has no account "acm" (did you mean acme?)`},
		{"unknown account", []string{"zzzzzz"}, nil, nil, nil, `job nightly has no account "zzzzzz" (want demo, acme or beta)`},
		{"misspelt stream", nil, []string{"order"}, nil, nil, `unknown stream "order" (did you mean orders?)`},
		{"unknown stream", nil, []string{"refunds"}, nil, nil, `unknown stream "refunds" (want orders, subscriptions or chargebacks)`},
		{"chargebacks alone", nil, []string{"chargebacks"}, nil, nil, "--stream chargebacks needs --stream orders: chargebacks are computed from the orders of the window"},
		{"chargebacks with subscriptions", nil, []string{"subscriptions,chargebacks"}, nil, nil, "--stream chargebacks needs --stream orders: chargebacks are computed from the orders of the window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := job.Narrow(tt.accounts, tt.streams)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Accounts, tt.wantAccounts) || !reflect.DeepEqual(got.Streams, tt.wantStreams) {
				t.Errorf("accounts %v, streams %v; want %v, %v", got.Accounts, got.Streams, tt.wantAccounts, tt.wantStreams)
			}
		})
	}
	// A stream the job does not extract.
	small := Job{Name: "subs", Accounts: []string{"demo"}, Streams: []string{"subscriptions"}}
	if _, err := small.Narrow(nil, []string{"orders"}); err == nil || err.Error() != "job subs does not extract stream orders (its streams: subscriptions)" {
		t.Errorf("error = %v", err)
	}
	if !reflect.DeepEqual(job.Streams, []string{"orders", "subscriptions", "chargebacks"}) {
		t.Errorf("Narrow changed the job's streams: %v", job.Streams)
	}
}
