package extract

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"time"
)

// DateLayout is the layout of the date in the API 6.0 string to sign, in UTC.
const DateLayout = "2006-01-02 15:04:05"

// Algorithms lists the HMAC algorithms API 6.0 accepts, default first.
var Algorithms = []string{"sha256", "sha3-256", "md5"}

// StringToSign returns the API 6.0 string to sign: len(code) + code +
// len(date) + date, lengths in bytes.
func StringToSign(code, date string) string {
	return strconv.Itoa(len(code)) + code + strconv.Itoa(len(date)) + date
}

// Sign returns the hex HMAC of StringToSign(code, date) keyed with secret.
func Sign(algo, secret, code, date string) (string, error) {
	var h func() hash.Hash
	switch algo {
	case "sha256", "":
		h = sha256.New
	case "sha3-256":
		h = func() hash.Hash { return sha3.New256() }
	case "md5":
		h = md5.New
	default:
		return "", fmt.Errorf("unknown HMAC algorithm %q (want one of %v)", algo, Algorithms)
	}
	m := hmac.New(h, []byte(secret))
	m.Write([]byte(StringToSign(code, date)))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// SignNow signs with the current UTC time and returns the date it signed.
func SignNow(algo, secret, code string, now time.Time) (date, hash string, err error) {
	date = now.UTC().Format(DateLayout)
	hash, err = Sign(algo, secret, code, date)
	return date, hash, err
}

// CheckAlgorithm returns algo, or the default algorithm if algo is empty,
// if API 6.0 accepts it.
func CheckAlgorithm(algo string) (string, error) {
	if algo == "" {
		algo = Algorithms[0]
	}
	if _, err := Sign(algo, "", "", ""); err != nil {
		return "", err
	}
	return algo, nil
}
