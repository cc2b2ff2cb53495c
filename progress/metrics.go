package progress

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ledgerline/ledgerline/pipeline"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
)

// Metric label names. The ETL job is etl_job, not job: job is the label
// Prometheus gives the scrape target, and the one a Pushgateway groups by.
const (
	LabelJob     = "etl_job"
	LabelAccount = "account"
	LabelStatus  = "status"
	LabelTable   = "table"
	LabelStream  = "stream"
)

// Metrics are the Prometheus metrics of runs, registered in a registry of
// their own (never the global one):
//
//	ledgerline_runs_total{etl_job,account,status}          runs ended, by status (succeeded, failed)
//	ledgerline_run_duration_seconds{etl_job,account}       duration of the last run
//	ledgerline_last_run_timestamp_seconds{etl_job,account} when the last run ended
//	ledgerline_last_success_timestamp_seconds{etl_job,account}
//	                                                       when the last successful run ended
//	ledgerline_rows_written_total{etl_job,account,table}   rows committed by successful runs
//	ledgerline_records_read_total{etl_job,account,stream}  records read from the API
//	ledgerline_pages_read_total{etl_job,account,stream}    pages read from the API
//
// Its methods are safe for concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	duration    *prometheus.GaugeVec
	lastRun     *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
	rows        *prometheus.CounterVec
	records     *prometheus.CounterVec
	pages       *prometheus.CounterVec
	client      *http.Client
}

// NewMetrics registers the metrics of runs in reg, or in a new registry if
// reg is nil.
func NewMetrics(reg *prometheus.Registry) (*Metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	ja := []string{LabelJob, LabelAccount}
	m := &Metrics{
		reg: reg,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_runs_total",
			Help: "Runs of a job on an account that ended, by status (succeeded or failed)."}, append(ja, LabelStatus)),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledgerline_run_duration_seconds",
			Help: "Duration of the last run of a job on an account."}, ja),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledgerline_last_run_timestamp_seconds",
			Help: "Unix time the last run of a job on an account ended, whatever its status."}, ja),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledgerline_last_success_timestamp_seconds",
			Help: "Unix time the last successful run of a job on an account ended."}, ja),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_rows_written_total",
			Help: "Rows committed to a table by successful runs."}, append(ja, LabelTable)),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_records_read_total",
			Help: "Records read from the API, by stream."}, append(ja, LabelStream)),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledgerline_pages_read_total",
			Help: "Pages of records read from the API, by stream."}, append(ja, LabelStream)),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.lastRun, m.lastSuccess, m.rows, m.records, m.pages} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("progress: register metrics: %w", err)
		}
	}
	return m, nil
}

// Registry returns the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Observer returns a pipeline.Observer that counts the pages and records
// that runs of job read.
func (m *Metrics) Observer(job string) pipeline.Observer { return metricsObserver{m, job} }

type metricsObserver struct {
	m   *Metrics
	job string
}

func (o metricsObserver) Page(account, stream string, records int) {
	o.m.pages.WithLabelValues(o.job, account, stream).Inc()
	o.m.records.WithLabelValues(o.job, account, stream).Add(float64(records))
}

// RunDone records a run of job on account that ended at end with summary s
// and error err (nil for success).
func (m *Metrics) RunDone(job, account string, s pipeline.Summary, err error, end time.Time) {
	status := pipeline.StatusSucceeded
	if err != nil {
		status = pipeline.StatusFailed
	}
	m.runs.WithLabelValues(job, account, status).Inc()
	// Both statuses exist from the first run, so that rate() and alerts on
	// failures see a 0 before the first failure.
	for _, st := range []string{pipeline.StatusSucceeded, pipeline.StatusFailed} {
		m.runs.WithLabelValues(job, account, st)
	}
	m.duration.WithLabelValues(job, account).Set(s.Duration.Seconds())
	m.lastRun.WithLabelValues(job, account).Set(unixSeconds(end))
	if err != nil {
		return
	}
	m.lastSuccess.WithLabelValues(job, account).Set(unixSeconds(end))
	for _, t := range s.Tables {
		m.rows.WithLabelValues(job, account, t.Table).Add(float64(t.Rows))
	}
}

// SetLastSuccess sets when the last successful run of job on account ended,
// e.g. from etl_runs, so that a push after a failed run still carries it.
func (m *Metrics) SetLastSuccess(job, account string, t time.Time) {
	m.lastSuccess.WithLabelValues(job, account).Set(unixSeconds(t))
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Push sends the metrics of job's runs to the Pushgateway at url (e.g.
// http://pushgateway:9091), one group per account: grouping key
// {job=<job>, account=<account>}, the metrics without their account label
// (a pushed metric may not repeat a grouping label). It uses POST, which
// replaces the pushed metric names in the group and keeps the others: a
// push after a failed run replaces ledgerline_runs_total and the last run's
// duration and time, and leaves the last success time of the gateway as it
// was.
func (m *Metrics) Push(ctx context.Context, url, job string) error {
	mfs, err := m.reg.Gather()
	if err != nil {
		return fmt.Errorf("progress: gather metrics: %w", err)
	}
	var errs []error
	for _, account := range accountsOf(mfs, job) {
		g := groupGatherer{mfs: mfs, job: job, account: account}
		err := push.New(url, job).Grouping(LabelAccount, account).Gatherer(g).Client(m.client).AddContext(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("progress: push metrics of job %s, account %s to %s: %w", job, account, url, err))
		}
	}
	return errors.Join(errs...)
}

// accountsOf returns the accounts that have metrics of job in mfs.
func accountsOf(mfs []*dto.MetricFamily, job string) []string {
	var out []string
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			if label(metric, LabelJob) != job {
				continue
			}
			if a := label(metric, LabelAccount); a != "" && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// groupGatherer gathers the metrics of one job and account, without the
// account label.
type groupGatherer struct {
	mfs          []*dto.MetricFamily
	job, account string
}

func (g groupGatherer) Gather() ([]*dto.MetricFamily, error) {
	var out []*dto.MetricFamily
	for _, mf := range g.mfs {
		var ms []*dto.Metric
		for _, metric := range mf.GetMetric() {
			if label(metric, LabelJob) != g.job || label(metric, LabelAccount) != g.account {
				continue
			}
			c := &dto.Metric{Gauge: metric.Gauge, Counter: metric.Counter, Histogram: metric.Histogram,
				Summary: metric.Summary, Untyped: metric.Untyped, TimestampMs: metric.TimestampMs}
			for _, l := range metric.GetLabel() {
				if l.GetName() != LabelAccount {
					c.Label = append(c.Label, l)
				}
			}
			ms = append(ms, c)
		}
		if len(ms) > 0 {
			out = append(out, &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Metric: ms})
		}
	}
	return out, nil
}

// Tee returns an observer that passes each call to every non-nil observer,
// and Days to those that are pipeline.DayObservers.
func Tee(observers ...pipeline.Observer) pipeline.DayObserver {
	var live tee
	for _, o := range observers {
		if o != nil {
			live = append(live, o)
		}
	}
	return live
}

type tee []pipeline.Observer

func (t tee) Page(account, stream string, records int) {
	for _, o := range t {
		o.Page(account, stream, records)
	}
}

func (t tee) Days(account, stream string, done, total int) {
	for _, o := range t {
		if d, ok := o.(pipeline.DayObserver); ok {
			d.Days(account, stream, done, total)
		}
	}
}
