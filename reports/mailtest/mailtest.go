// Package mailtest decodes the messages the reports send, for tests: the
// SMTP server's and the outbox's alike.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// Message is a received message, decoded.
type Message struct {
	Header      mail.Header
	Subject     string
	To          []string
	Text, HTML  string
	Attachments map[string][]byte // by file name
	Types       map[string]string // media types, by file name
}

// Parse decodes the message raw: its headers, its text and HTML
// bodies, and its attachments by file name, failing t if it cannot.
func Parse(t testing.TB, raw []byte) Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	p := Message{Header: msg.Header, Attachments: map[string][]byte{}, Types: map[string]string{}}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	addrs, err := msg.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		p.To = append(p.To, a.Address)
	}
	var walk func(ctype string, header map[string][]string, body io.Reader)
	walk = func(ctype string, header map[string][]string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(part.Header.Get("Content-Type"), part.Header, part)
			}
		}
		get := func(k string) string {
			if v := header[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		var r io.Reader = body
		switch strings.ToLower(get("Content-Transfer-Encoding")) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if disp, dp, err := mime.ParseMediaType(get("Content-Disposition")); err == nil && disp == "attachment" {
			p.Attachments[dp["filename"]] = data
			p.Types[dp["filename"]] = mt
			return
		}
		switch mt {
		case "text/plain":
			p.Text = string(data)
		case "text/html":
			p.HTML = string(data)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header, msg.Body)
	return p
}
