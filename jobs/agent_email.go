package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// AgentEmailArgs emails one staff user about one event, together with
// whatever else is pending for them (a digest): the first of a user's jobs
// to run sends everything still unread, the later ones find nothing left.
type AgentEmailArgs struct {
	EventID int64 `json:"event_id"`
	UserID  int64 `json:"user_id"`
}

// Kind is stored with each job row; it must never change.
func (AgentEmailArgs) Kind() string { return "agent_email" }

// InsertOpts: retried with River's backoff (about 1.3 hours in all), then
// discarded and left visible on the jobs page; in the mail queue.
func (AgentEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MailMaxAttempts, Queue: QueueMail}
}

// MailMaxAttempts is how many times an email job tries before it is
// discarded.
const MailMaxAttempts = 8

// QueueMail is the River queue of the jobs that talk to the SMTP server.
// It has few workers (MailWorkers): a slow or dead server then holds at
// most that many database connections and never delays other jobs.
const QueueMail = "mail"

// MailWorkers is how many emails one instance sends at once.
const MailWorkers = 4

// AgentEmailWorker runs AgentEmailArgs.
type AgentEmailWorker struct {
	river.WorkerDefaults[AgentEmailArgs]
	deps Deps
}

// Work sends the digest. The idempotency key (event, recipient) is recorded
// in the transaction that takes the pending items; a run that finds its
// key, or nothing pending, sends nothing.
func (w *AgentEmailWorker) Work(ctx context.Context, job *river.Job[AgentEmailArgs]) error {
	if w.deps.Mailer == nil {
		return nil
	}
	a := job.Args
	key := fmt.Sprintf("agent:%d:%d", a.EventID, a.UserID)
	return w.deps.sendOnce(ctx, key, func(tx *gorm.DB) (*Email, error) {
		var user models.User
		if err := tx.Take(&user, a.UserID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil, nil
			}
			return nil, err
		}
		items, err := models.TakeAgentDigest(ctx, tx, &user)
		if err != nil || len(items) == 0 {
			return nil, err
		}
		settings, err := models.GetSettings(ctx, tx)
		if err != nil {
			return nil, err
		}
		lang := views.MatchLanguage(user.Locale)
		vctx := views.WithLanguage(ctx, lang)
		m := views.AgentMail{Desk: views.DeskName(vctx, settings), UserName: user.Name, Items: items, BaseURL: w.deps.BaseURL}
		var html bytes.Buffer
		if err := views.AgentMailHTML(m).Render(vctx, &html); err != nil {
			return nil, err
		}
		return &Email{
			To: user.Email, ToName: user.Name, Language: lang,
			Subject: views.AgentMailSubject(vctx, m), Text: views.AgentMailText(vctx, m), HTML: html.String(),
		}, nil
	}, "agent", job.ID)
}

// sendOnce is the exactly-once envelope of every email job. In one
// transaction: if key was already delivered, stop; build takes what is to
// be sent (and marks it taken); the email goes out with a Message-ID derived
// from key; the key is recorded; commit. A send that fails rolls back, so
// the retry finds everything as it was. A recipient refused for good (a
// malformed address, a 5xx to RCPT TO) cancels the job at once; what it
// was to send stays pending, for the next email to that person or for a
// retry from the jobs page once the address is fixed.
//
// What remains: if the process dies after the SMTP server accepted the
// email but before the commit, the retry sends it again, with the same
// Message-ID, which mail clients show once.
func (d Deps) sendOnce(ctx context.Context, key string, build func(tx *gorm.DB) (*Email, error), kind string, jobID int64) error {
	tx := d.DB.WithContext(ctx).Begin()
	if tx.Error != nil {
		return tx.Error
	}
	defer tx.Rollback()
	done, err := models.EmailDelivered(ctx, tx, key)
	if err != nil || done {
		return err
	}
	e, err := build(tx)
	if err != nil {
		return err
	}
	if e == nil { // nothing left to say (read meanwhile, or sent by an earlier job)
		return tx.Commit().Error
	}
	if e.To == "" {
		return river.JobCancel(fmt.Errorf("%s email %s: the recipient has no email address", kind, key))
	}
	e.MessageID = messageID(key, d.baseHost())
	if err := d.Mailer.Send(ctx, *e); err != nil {
		var perm *PermanentError
		if errors.As(err, &perm) {
			d.Log.WarnContext(ctx, "email refused for good", "kind", kind, "key", key, "err", err)
			return river.JobCancel(err)
		}
		return err
	}
	if err := models.RecordEmailDelivery(ctx, tx, key, kind, e.To, e.MessageID, jobID); err != nil {
		return err
	}
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit %s email %s (sent, Message-ID %s): %w", kind, key, e.MessageID, err)
	}
	d.Log.InfoContext(ctx, "email sent", "kind", kind, "key", key, "message_id", e.MessageID)
	return nil
}
