package config

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduleReference is the fixed time from which a schedule's next fire is
// computed, in the job's time zone, so that whether a file is valid does
// not depend on the day it is checked. The year after it has no 29
// February: a schedule that fires only on leap days fires less than once
// a year and is refused.
func scheduleReference(loc *time.Location) time.Time {
	return time.Date(2025, time.January, 1, 0, 0, 0, 0, loc)
}

// checkSchedule checks that the job's schedule parses as the scheduler
// parses it (a standard cron spec or a descriptor, in the job's time zone)
// and fires at least once a year and at most once a minute.
//
// A cron spec has no seconds field, so it cannot fire more often than once
// a minute; but it can name days that never come (30 February) or come
// once in four years (29 February), where the scheduler would wait for
// ever. "@every D" fires every D; cron turns a D under a second into a
// second, so D is judged as written.
func (j *Job) checkSchedule(c *checker) {
	s := j.Schedule
	if s == "" {
		return
	}
	if strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		c.errorf(&j.Schedule, "set the time zone with the job's timezone key, not in the schedule")
		return
	}
	sched, err := cron.ParseStandard(s)
	if err != nil {
		c.errorf(&j.Schedule, "invalid cron spec %q: %v", s, err)
		return
	}
	if every, ok := strings.CutPrefix(s, "@every "); ok {
		// cron parsed it, so it is a valid duration.
		if d, err := time.ParseDuration(every); err == nil && d < time.Minute {
			c.errorf(&j.Schedule, "schedule %q fires more often than once a minute (want @every 1m or longer)", s)
		}
		return
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return
	}
	spec.Location = j.Timezone
	ref := scheduleReference(j.Timezone)
	const layout = "2006-01-02 15:04 MST"
	switch next := spec.Next(ref); {
	case next.IsZero():
		// cron looks five years ahead.
		c.errorf(&j.Schedule, "schedule %q never fires (no date matches its day and month)", s)
	case next.After(ref.AddDate(1, 0, 0)):
		c.errorf(&j.Schedule, "schedule %q does not fire within a year (after %s it next fires %s)",
			s, ref.Format(layout), next.Format(layout))
	}
}
