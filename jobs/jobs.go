// Package jobs holds Parley's background work as River jobs: one file per job
// kind, each with its XArgs (a stable snake_case Kind) and XWorker. Jobs that
// must follow a write are inserted in that write's transaction, so a rolled
// back change never sends a notification and a committed one always does.
package jobs

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/storage"
)

// Deps is what workers need from the running app.
type Deps struct {
	DB  *gorm.DB
	Log *slog.Logger
	// InsertTx inserts jobs inside tx, a transaction opened by
	// models.Transaction, so a worker's change and the jobs that follow it
	// commit together.
	InsertTx InsertTxFunc
	// Writer runs workers' changes (the same writer as the app's handlers);
	// Register makes it from DB, InsertTx and Mailer if nil.
	Writer *Writer
	// Ring wakes live streams after a worker committed events (the realtime
	// doorbell); nil in tests that need no live delivery.
	Ring func()
	// Committed, if set, hears the events of every write the writer made
	// from these deps commits (Writer.OnCommit): the app hands them to its
	// broker for immediate local delivery.
	Committed func([]models.Event)
	// Mailer sends email; nil when email is disabled (no SMTP host): the
	// email jobs then finish without doing anything.
	Mailer Mailer
	// SMS sends text messages (session invitations); nil when no provider
	// is configured.
	SMS SMSSender
	// BaseURL is how browsers reach Parley (links in emails), without a
	// trailing slash.
	BaseURL string
	// Files is the storage of files sent in conversations: delete_files
	// removes the bytes of removed files from it (nil: nothing to remove).
	Files storage.Store
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

// ring wakes live streams, if the app asked for it.
func (d Deps) ring() {
	if d.Ring != nil {
		d.Ring()
	}
}

// Register adds every worker to w.
func Register(w *river.Workers, d Deps) {
	if d.CustomerEmailDelay == 0 {
		d.CustomerEmailDelay = DefaultCustomerEmailDelay
	}
	if d.Writer == nil {
		d.Writer = d.NewWriter()
	}
	river.AddWorker(w, &CleanupWorker{deps: d})
	river.AddWorker(w, &NotifyWorker{deps: d})
	river.AddWorker(w, &AutoCloseWorker{deps: d})
	river.AddWorker(w, &MailEventWorker{deps: d})
	river.AddWorker(w, &AgentEmailWorker{deps: d})
	river.AddWorker(w, &CustomerEmailWorker{deps: d})
	river.AddWorker(w, &SearchIndexWorker{deps: d})
	river.AddWorker(w, &SessionInviteWorker{deps: d})
	river.AddWorker(w, &SLACheckWorker{deps: d})
	river.AddWorker(w, &DeleteFilesWorker{deps: d})
	river.AddWorker(w, &ExpireFilesWorker{deps: d})
	river.AddWorker(w, &CobrowsePurgeWorker{deps: d})
	river.AddWorker(w, &ReapMediaWorker{deps: d})
}

// Periodic lists the timed jobs River runs on a schedule. River elects one
// leader among all instances, so each runs once per period, not per instance.
func Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return AutoCloseArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(ExpireFilesInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ExpireFilesArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(SearchIndexInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SearchIndexArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(SLACheckInterval),
			func() (river.JobArgs, *river.InsertOpts) { return SLACheckArgs{}, nil }, nil),
		river.NewPeriodicJob(river.PeriodicInterval(ReapMediaInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ReapMediaArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// NewWriter returns the writer of d's database, inserting the follow-ups
// that d's configuration calls for (email jobs only with a mailer).
func (d Deps) NewWriter() *Writer {
	w := NewWriter(d.DB, d.InsertTx, FollowUpOptions{Mail: d.Mailer != nil})
	w.OnCommit(d.Committed)
	return w
}
