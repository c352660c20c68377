package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/parleydesk/parley/models"
	"github.com/riverqueue/river"
)

// CleanupArgs asks for expired sessions, old failed sign-ins and old
// realtime events to be deleted, so those tables stay small however long
// Parley runs. Running it twice is harmless.
type CleanupArgs struct{}

// Kind is stored with each job row; it must never change.
func (CleanupArgs) Kind() string { return "cleanup" }

// EventRetention is how long realtime events are kept. A desk tab or widget
// that reconnects within it replays what it missed; one that was away longer
// reloads its page.
const EventRetention = 24 * time.Hour

// NotificationReadRetention and NotificationRetention are how long read
// notifications, and any notification, stay in the bell.
const (
	NotificationReadRetention = 30 * 24 * time.Hour
	NotificationRetention     = 90 * 24 * time.Hour
)

// EmailRecordRetention is how long sent-email keys and done digest items
// are kept: far longer than any retry of an email job.
const EmailRecordRetention = 7 * 24 * time.Hour

// CleanupWorker deletes what CleanupArgs names.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	deps Deps
}

// Work deletes expired sessions and failed sign-ins older than the limit
// window.
func (w *CleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	sessions, err := models.DeleteExpiredSessions(ctx, w.deps.DB)
	if err != nil {
		return fmt.Errorf("cleanup sessions: %w", err)
	}
	failures, err := models.PruneLoginFailures(ctx, w.deps.DB, models.DefaultLoginLimits.Window)
	if err != nil {
		return fmt.Errorf("cleanup login failures: %w", err)
	}
	events, err := models.PruneEvents(ctx, w.deps.DB, EventRetention)
	if err != nil {
		return fmt.Errorf("cleanup events: %w", err)
	}
	notifications, err := models.PruneNotifications(ctx, w.deps.DB, NotificationReadRetention, NotificationRetention)
	if err != nil {
		return fmt.Errorf("cleanup notifications: %w", err)
	}
	emails, err := models.PruneEmailRecords(ctx, w.deps.DB, EmailRecordRetention)
	if err != nil {
		return fmt.Errorf("cleanup email records: %w", err)
	}
	if sessions+failures+events+notifications+emails > 0 {
		w.deps.Log.InfoContext(ctx, "cleanup", "expired_sessions", sessions, "login_failures", failures, "events", events,
			"notifications", notifications, "email_records", emails)
	}
	return nil
}
