package sandbox

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"cloud.google.com/go/civil"
)

// TestAppendOrder holds the hand-written encoding of orders to what
// encoding/json makes of the rendered order, byte for byte, over orders in
// every state.
func TestAppendOrder(t *testing.T) {
	since := civil.Date{Year: 2024, Month: time.March, Day: 1}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		tokyo = time.FixedZone("JST", 9*3600)
	}
	berlin, err := time.LoadLocation("Europe/Berlin") // DST
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	for _, tt := range []struct {
		seed int64
		loc  *time.Location
		days int // from since to now
	}{
		{1, nil, 3},
		{2, time.UTC, 40},
		{3, tokyo, 400},
		{4, berlin, 25}, // the spring DST change
	} {
		now := since.AddDays(tt.days).In(time.UTC).Add(9*time.Hour + 13*time.Minute)
		m, err := New(Config{MerchantCode: "M", SecretKey: "k", Seed: tt.seed, OrdersPerDay: 300, Since: since, Location: tt.loc, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		var got []byte
		var s sale
		n := 0
		for d := now.AddDate(0, 0, -40); !d.After(now); d = d.AddDate(0, 0, 1) {
			day := civil.DateOf(d.In(m.loc))
			p := m.plan(day)
			for i := range p.visible(now) {
				m.fillSale(&s, &p, i, new(rng))
				want.Reset()
				if err := enc.Encode(m.order(&s, now)); err != nil {
					t.Fatal(err)
				}
				got = append(m.appendOrder(got[:0], &s, now), '\n')
				if !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("seed %d, order %s:\n got %s\nwant %s", tt.seed, s.refNo(), got, want.Bytes())
				}
				n++
			}
		}
		if n < 1000 {
			t.Errorf("seed %d: only %d orders compared", tt.seed, n)
		}
	}
}

func TestAppendDecimal(t *testing.T) {
	for _, exp := range []int{0, 1, 2, 3, 4, 5} {
		for _, v := range []int64{0, 1, 5, 9, 10, 11, 99, 100, 101, 110, 1000, 1001, 1990, 2000, 12345, 100000, 123456789, 1 << 40} {
			for _, v := range []int64{v, -v} {
				if got, want := string(appendDecimal([]byte("x"), v, exp)), "x"+string(decimal(v, exp)); got != want {
					t.Errorf("appendDecimal(%d, %d) = %s, want %s", v, exp, got, want)
				}
			}
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain text (1)", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnewline\n", "\x00\x1f", "é ü 日本", "\u2028\u2029", "bad \xff utf-8"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
		if got := appendStringBody(nil, s); !bytes.Equal(got, want[1:len(want)-1]) {
			t.Errorf("appendStringBody(%q) = %s, want %s", s, got, want[1:len(want)-1])
		}
	}
}
