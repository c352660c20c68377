package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// SessionInviteArgs sends an invitation to a support session
// (models.InviteToSession): by email through the mailer, or by SMS through
// the configured sender (sms.go). The app inserts it in the transaction that
// records the invitation. When it is sent, or fails for good (a permanent
// refusal, or the last attempt), the agent sees a status line saying so.
type SessionInviteArgs struct {
	InvitationID int64 `json:"invitation_id"`
}

// Kind is stored with each job row; it must never change.
func (SessionInviteArgs) Kind() string { return "session_invite" }

// InviteMaxAttempts is how many times an invitation is tried: a key lives
// for minutes, so retries are few and quick (River's backoff: 1 s, 16 s,
// 81 s…).
const InviteMaxAttempts = 4

// InsertOpts: invitations talk to outside servers, in the mail queue.
func (SessionInviteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: InviteMaxAttempts, Queue: QueueMail}
}

// SessionInviteWorker runs SessionInviteArgs.
type SessionInviteWorker struct {
	river.WorkerDefaults[SessionInviteArgs]
	deps Deps
}

// Timeout bounds one attempt (an SMTP session or an HTTP call).
func (w *SessionInviteWorker) Timeout(*river.Job[SessionInviteArgs]) time.Duration {
	return 30 * time.Second
}

// Work sends the invitation once, in the language the agent chose.
func (w *SessionInviteWorker) Work(ctx context.Context, job *river.Job[SessionInviteArgs]) error {
	id := job.Args.InvitationID
	inv, err := models.LoadInvitation(ctx, w.deps.DB, id, time.Now())
	if errors.Is(err, models.ErrNotFound) {
		return nil // the session was deleted
	}
	if err != nil {
		return err
	}
	if inv.Done {
		return nil
	}
	err = w.send(ctx, job, inv)
	var perm *PermanentError
	switch {
	case err == nil:
		return w.finish(ctx, id, "")
	case errors.As(err, &perm) || job.Attempt >= job.MaxAttempts:
		msg := err.Error()
		if perm != nil {
			msg = perm.Err.Error() // the provider's words, without our prefix
		}
		if ferr := w.finish(ctx, id, msg); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	return err
}

func (w *SessionInviteWorker) send(ctx context.Context, job *river.Job[SessionInviteArgs], inv *models.InvitationToSend) error {
	lang := views.MatchLanguage(inv.Invitation.Language)
	vctx := views.WithLanguage(ctx, lang)
	settings, err := models.GetSettings(ctx, w.deps.DB)
	if err != nil {
		return err
	}
	m := views.SessionInviteMail{
		Desk: views.DeskName(vctx, settings), Agent: inv.AgentName,
		Link: w.deps.BaseURL + "/s/" + url.PathEscape(inv.Key), SupportURL: w.deps.BaseURL + "/support",
		Key: inv.Key, Minutes: max(1, int(time.Until(inv.ExpiresAt)/time.Minute)),
	}
	switch inv.Invitation.Channel {
	case models.InviteEmail:
		if w.deps.Mailer == nil {
			return &PermanentError{Err: errors.New("email is not configured")}
		}
		return w.deps.sendOnce(ctx, fmt.Sprintf("session_invite:%d", inv.Invitation.ID), func(*gorm.DB) (*Email, error) {
			var html bytes.Buffer
			if err := views.SessionInviteHTML(m).Render(vctx, &html); err != nil {
				return nil, err
			}
			return &Email{To: inv.Invitation.Address, Language: lang, Subject: views.SessionInviteSubject(vctx, m),
				Text: views.SessionInviteText(vctx, m), HTML: html.String()}, nil
		}, "session_invite", job.ID)
	case models.InviteSMS:
		if w.deps.SMS == nil {
			return &PermanentError{Err: errors.New("SMS is not configured")}
		}
		return w.deps.SMS.SendSMS(ctx, SMS{To: inv.Invitation.Address, Body: views.SessionInviteSMS(vctx, m), Key: fmt.Sprintf("session_invite:%d", inv.Invitation.ID)})
	}
	return &PermanentError{Err: fmt.Errorf("unknown channel %q", inv.Invitation.Channel)}
}

// finish records the outcome and wakes the desks that show it.
func (w *SessionInviteWorker) finish(ctx context.Context, id int64, failure string) error {
	if err := w.deps.Writer.Write(ctx, func(tx models.Tx) error { return models.FinishInvitation(ctx, tx, id, failure) }); err != nil {
		return err
	}
	w.deps.ring()
	return nil
}
