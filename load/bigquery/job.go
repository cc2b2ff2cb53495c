package bigquery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	bq "cloud.google.com/go/bigquery"
	"google.golang.org/api/googleapi"
)

// runJob submits a job with submit and waits for it. A submit that fails
// in a way that may have created the job anyway is retried with the same
// job id; when BigQuery answers that the job exists, runJob waits for that
// job instead.
func (w *Warehouse) runJob(ctx context.Context, what, id string, submit func() (*bq.Job, error)) error {
	const attempts = 4
	var job *bq.Job
	var err error
	for attempt := 1; ; attempt++ {
		job, err = submit()
		if err == nil {
			break
		}
		if isStatus(err, http.StatusConflict) {
			job, err = w.client.JobFromIDLocation(ctx, id, w.cfg.Location)
			if err != nil {
				return fmt.Errorf("bigquery: %s: attaching to the existing job: %w", what, err)
			}
			break
		}
		if attempt == attempts || !retryable(err) || ctx.Err() != nil {
			return fmt.Errorf("bigquery: %s: %w", what, err)
		}
		select {
		case <-time.After(time.Duration(attempt) * time.Second):
		case <-ctx.Done():
			return fmt.Errorf("bigquery: %s: %w", what, ctx.Err())
		}
	}
	status, err := job.Wait(ctx)
	if err != nil {
		return fmt.Errorf("bigquery: %s: %w", what, err)
	}
	if err := status.Err(); err != nil {
		return &JobError{What: what, JobID: id, Err: err, Errors: status.Errors}
	}
	return nil
}

// retryable reports whether a failed submit may succeed when repeated.
func retryable(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusTooManyRequests || gerr.Code >= 500
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// JobError is a BigQuery job that ended with an error.
type JobError struct {
	What  string
	JobID string
	// Err is the job's error result, a *bigquery.Error with BigQuery's
	// reason.
	Err error
	// Errors are the errors the job reported, such as the rows a load
	// could not read.
	Errors []*bq.Error
}

// maxErrors is how many of a job's errors a JobError message shows.
const maxErrors = 5

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bigquery: %s failed: %s", e.What, describeError(e.Err))
	n := 0
	for _, je := range e.Errors {
		if je == nil || (e.Err != nil && je.Error() == e.Err.Error()) {
			continue
		}
		if n == maxErrors {
			fmt.Fprintf(&b, "; and %d more", len(e.Errors)-n)
			break
		}
		if n == 0 {
			b.WriteString("; first errors: ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(describeError(je))
		n++
	}
	return b.String()
}

func (e *JobError) Unwrap() error { return e.Err }

func describeError(err error) string {
	var be *bq.Error
	if !errors.As(err, &be) {
		return err.Error()
	}
	s := be.Message
	if be.Reason != "" {
		s = be.Reason + ": " + s
	}
	if be.Location != "" {
		s += " (at " + be.Location + ")"
	}
	return s
}
