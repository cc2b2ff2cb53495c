package extract

import (
	"strings"
	"testing"
	"time"
)

func TestStringToSign(t *testing.T) {
	tests := []struct {
		code, date, want string
	}{
		// The documented example.
		{"YOURCODE123", "2020-06-18 08:05:46", "11YOURCODE123192020-06-18 08:05:46"},
		{"", "", "00"},
		// Lengths are in bytes.
		{"CODÉ", "2020-06-18 08:05:46", "5CODÉ192020-06-18 08:05:46"},
	}
	for _, tt := range tests {
		if got := StringToSign(tt.code, tt.date); got != tt.want {
			t.Errorf("StringToSign(%q, %q) = %q, want %q", tt.code, tt.date, got, tt.want)
		}
	}
}

// The expected signatures were computed outside Go, with Python's hmac and
// hashlib and with openssl dgst -hmac, over the documented example's string
// to sign and the key SECRET_KEY.
func TestSign(t *testing.T) {
	const (
		secret = "SECRET_KEY"
		code   = "YOURCODE123"
		date   = "2020-06-18 08:05:46"
	)
	tests := []struct {
		algo, want string
	}{
		{"sha256", "483fc633a309cadc65b89519f55cc55e0d0611a6e1dfa62ac4d48fc3703a6a42"},
		{"", "483fc633a309cadc65b89519f55cc55e0d0611a6e1dfa62ac4d48fc3703a6a42"},
		{"sha3-256", "89cff582a336094aa0a917003e383016c173b0bcb38d812375b2b10ea6ce99ed"},
		{"md5", "63b79d9c070c985abc6c69efca7d9bb2"},
	}
	for _, tt := range tests {
		got, err := Sign(tt.algo, secret, code, date)
		if err != nil {
			t.Errorf("Sign(%q) error: %v", tt.algo, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Sign(%q) = %s, want %s", tt.algo, got, tt.want)
		}
	}
}

func TestSignUnknownAlgorithm(t *testing.T) {
	_, err := Sign("sha1", "SECRET_KEY", "YOURCODE123", "2020-06-18 08:05:46")
	if err == nil {
		t.Fatal("Sign(sha1) succeeded, want an error")
	}
	if strings.Contains(err.Error(), "SECRET_KEY") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestSignNow(t *testing.T) {
	now := time.Date(2020, 6, 18, 10, 5, 46, 0, time.FixedZone("GMT+2", 2*60*60))
	date, hash, err := SignNow("sha256", "SECRET_KEY", "YOURCODE123", now)
	if err != nil {
		t.Fatal(err)
	}
	if date != "2020-06-18 08:05:46" {
		t.Errorf("date = %q, want the UTC time 2020-06-18 08:05:46", date)
	}
	if want := "483fc633a309cadc65b89519f55cc55e0d0611a6e1dfa62ac4d48fc3703a6a42"; hash != want {
		t.Errorf("hash = %s, want %s", hash, want)
	}
}
