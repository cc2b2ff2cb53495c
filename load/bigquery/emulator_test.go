//go:build bqemulator

// The BigQuery emulator compiles GoogleSQL from Go source, which takes about
// 15 minutes the first time on two cores: its tests run with
// 'make test-bigquery' (go test -tags bqemulator), which CI runs after
// 'make test'.

package bigquery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/goccy/bigquery-emulator/server"
	"github.com/goccy/bigquery-emulator/types"
	"github.com/ledgerline/ledgerline/load/bigquery"
	"google.golang.org/api/option"
)

const project = "ledgerline-test"

// emulator is a BigQuery emulator running in the test's process, and the
// requests the clients connected to it have sent.
type emulator struct {
	url string
	rec *recorder
}

// startEmulator starts an emulator with project and the given datasets.
func startEmulator(t *testing.T, datasets ...string) *emulator {
	t.Helper()
	srv, err := server.New(server.TempStorage)
	if err != nil {
		t.Fatal(err)
	}
	var ds []*types.Dataset
	for _, name := range datasets {
		ds = append(ds, types.NewDataset(name))
	}
	if err := srv.Load(server.StructSource(types.NewProject(project, ds...))); err != nil {
		t.Fatal(err)
	}
	ts := srv.TestServer()
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the emulator: %v", err)
		}
	})
	return &emulator{url: ts.URL, rec: &recorder{base: http.DefaultTransport}}
}

// config returns the Config of dataset on the emulator, with the client's
// requests recorded.
func (e *emulator) config(dataset string) bigquery.Config {
	return bigquery.Config{
		Project:       project,
		Dataset:       dataset,
		Location:      "EU",
		Endpoint:      e.url,
		ClientOptions: []option.ClientOption{option.WithHTTPClient(&http.Client{Transport: e.rec})},
	}
}

// warehouse connects to dataset on the emulator.
func (e *emulator) warehouse(t *testing.T, dataset string) *bigquery.Warehouse {
	t.Helper()
	return newWarehouse(t, e.config(dataset))
}

func newWarehouse(t *testing.T, cfg bigquery.Config) *bigquery.Warehouse {
	t.Helper()
	w, err := bigquery.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// request is a request a client sent.
type request struct {
	Method string
	Path   string
	Query  url.Values
	Body   []byte
}

// recorder is an http.RoundTripper that records the requests it passes
// on; a test may put a function around the passing on, to change or make up
// the response.
type recorder struct {
	base http.RoundTripper

	mu     sync.Mutex
	reqs   []request
	around func(r request, pass func() (*http.Response, error)) (*http.Response, error)
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r := request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Body: body}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, r)
	around := rec.around
	rec.mu.Unlock()
	pass := func() (*http.Response, error) { return rec.base.RoundTrip(req) }
	if around == nil {
		return pass()
	}
	resp, err := around(r, pass)
	if resp != nil && resp.Request == nil {
		resp.Request = req
	}
	return resp, err
}

// setAround sets the function around the passing on of requests.
func (rec *recorder) setAround(f func(r request, pass func() (*http.Response, error)) (*http.Response, error)) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.around = f
}

// reset forgets the recorded requests.
func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = nil
}

// jsonResponse makes up a response with status code and JSON body.
func jsonResponse(code int, body string) *http.Response {
	return &http.Response{
		StatusCode: code,
		Status:     http.StatusText(code),
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
	}
}

// requests returns the recorded requests that match.
func (rec *recorder) requests(match func(r request) bool) []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []request
	for _, r := range rec.reqs {
		if match(r) {
			out = append(out, r)
		}
	}
	return out
}

// job is the part of a jobs.insert request the tests look at.
type job struct {
	JobReference struct {
		JobID    string `json:"jobId"`
		Location string `json:"location"`
	} `json:"jobReference"`
	Configuration struct {
		Labels map[string]string `json:"labels"`
		Load   *struct {
			SourceFormat       string   `json:"sourceFormat"`
			DecimalTargetTypes []string `json:"decimalTargetTypes"`
			CreateDisposition  string   `json:"createDisposition"`
			WriteDisposition   string   `json:"writeDisposition"`
			DestinationTable   struct {
				ProjectID string `json:"projectId"`
				DatasetID string `json:"datasetId"`
				TableID   string `json:"tableId"`
			} `json:"destinationTable"`
			Schema struct {
				Fields []struct {
					Name        string `json:"name"`
					Type        string `json:"type"`
					Mode        string `json:"mode"`
					Description string `json:"description"`
					Precision   string `json:"precision"`
					Scale       string `json:"scale"`
				} `json:"fields"`
			} `json:"schema"`
		} `json:"load"`
		Query *struct {
			Query        string `json:"query"`
			UseLegacySQL *bool  `json:"useLegacySql"`
		} `json:"query"`
	} `json:"configuration"`
}

// jobInsert is a recorded jobs.insert: the job, and the uploaded data of a
// load from a reader.
type jobInsert struct {
	job
	Media []byte
}

// jobInserts returns the jobs.insert requests recorded, in order.
func (rec *recorder) jobInserts(t *testing.T) []jobInsert {
	t.Helper()
	var out []jobInsert
	for _, r := range rec.requests(func(r request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/jobs")
	}) {
		var ji jobInsert
		meta := r.Body
		if r.Query.Get("uploadType") == "multipart" {
			meta, ji.Media = splitMultipart(t, r)
		}
		if err := json.Unmarshal(meta, &ji.job); err != nil {
			t.Fatalf("jobs.insert body: %v", err)
		}
		out = append(out, ji)
	}
	return out
}

// splitMultipart returns the metadata and media of a multipart upload.
func splitMultipart(t *testing.T, r request) (meta, media []byte) {
	t.Helper()
	// The recorder does not keep headers; the boundary is the first line.
	first, _, ok := bytes.Cut(r.Body, []byte("\r\n"))
	if !ok || !bytes.HasPrefix(first, []byte("--")) {
		t.Fatalf("multipart upload body starts with %q", first)
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), string(first[2:]))
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); i == 0 && ct == "application/json" {
			meta = b
		} else {
			media = b
		}
	}
	return meta, media
}

// isPost matches the POST requests whose path ends with suffix.
func isPost(suffix string) func(r request) bool {
	return func(r request) bool { return r.Method == http.MethodPost && strings.HasSuffix(r.Path, suffix) }
}

// decode decodes the JSON body of a request into v.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("request body %.200s: %v", body, err)
	}
}
