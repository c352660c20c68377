// Package jobs holds Parley's background work as River jobs: one file per job
// kind, each with its XArgs (a stable snake_case Kind) and XWorker. Jobs that
// must follow a write are inserted in that write's transaction, so a rolled
// back change never sends a notification and a committed one always does.
package jobs

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"
)

// Deps is what workers need from the running app.
type Deps struct {
	DB  *gorm.DB
	Log *slog.Logger
	// InsertTx inserts jobs inside tx, a GORM transaction, so a worker's
	// change and the jobs that follow it commit together.
	InsertTx func(ctx context.Context, tx *gorm.DB, params []river.InsertManyParams) error

	// Mailer sends email; nil when email is disabled (no SMTP host): the
	// email jobs then finish without doing anything.
	Mailer Mailer
	// BaseURL is how browsers reach Parley (links in emails), without a
	// trailing slash.
	BaseURL string
	// CustomerEmailDelay is how long an agent's reply waits for the visitor
	// to read it before it is emailed (DefaultCustomerEmailDelay if zero).
	CustomerEmailDelay time.Duration
}

// baseHost is the host part of BaseURL, for Message-IDs.
func (d Deps) baseHost() string {
	if u, err := url.Parse(d.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return ""
}

// Register adds every worker to w.
func Register(w *river.Workers, d Deps) {
	if d.CustomerEmailDelay == 0 {
		d.CustomerEmailDelay = DefaultCustomerEmailDelay
	}
	river.AddWorker(w, &CleanupWorker{deps: d})
	registerMail(w, d)
}

// Periodic lists the timed jobs River runs on a schedule. River elects one
// leader among all instances, so each runs once per period, not per instance.
func Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// registerMail adds the email workers.
func registerMail(w *river.Workers, d Deps) {
	river.AddWorker(w, &MailEventWorker{deps: d})
	river.AddWorker(w, &AgentEmailWorker{deps: d})
	river.AddWorker(w, &CustomerEmailWorker{deps: d})
}
