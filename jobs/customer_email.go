package jobs

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// CustomerEmailArgs emails a customer the agent replies they have not read,
// a while after one was posted: the visitor has left, so the answer follows
// them by email. Every reply schedules one; the first to run sends all the
// unread replies (a burst becomes one email) and the later ones find
// nothing left. A reply read in the widget before the delay is never sent.
type CustomerEmailArgs struct {
	ConversationID int64 `json:"conversation_id"`
	MessageID      int64 `json:"message_id"`
}

// Kind is stored with each job row; it must never change.
func (CustomerEmailArgs) Kind() string { return "customer_email" }

// InsertOpts: see AgentEmailArgs.
func (CustomerEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MailMaxAttempts, Queue: QueueMail}
}

// DefaultCustomerEmailDelay is how long an agent's reply waits for the
// visitor to read it in the widget before it is emailed.
const DefaultCustomerEmailDelay = 2 * time.Minute

// CustomerEmailWorker runs CustomerEmailArgs.
type CustomerEmailWorker struct {
	river.WorkerDefaults[CustomerEmailArgs]
	deps Deps
}

// Work sends the unread replies with a signed link that reopens the
// conversation in the browser, in the conversation's language.
func (w *CustomerEmailWorker) Work(ctx context.Context, job *river.Job[CustomerEmailArgs]) error {
	if w.deps.Mailer == nil {
		return nil
	}
	a := job.Args
	var to string
	key := func() string { return fmt.Sprintf("customer:%d:%d:%s", a.ConversationID, a.MessageID, to) }
	// The key names the recipient, so it is read first (outside the
	// envelope's transaction: an address changed meanwhile is a new key).
	if err := w.deps.DB.WithContext(ctx).Raw(`
		SELECT cu.email FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?`,
		a.ConversationID).Scan(&to).Error; err != nil {
		return err
	}
	if to == "" {
		return river.JobCancel(fmt.Errorf("customer email for conversation %d: the customer left no email address", a.ConversationID))
	}
	return w.deps.sendOnce(ctx, key(), func(tx *gorm.DB) (*Email, error) {
		r, err := models.TakeCustomerReplies(ctx, tx, a.ConversationID)
		if err != nil || len(r.Messages) == 0 {
			return nil, err
		}
		settings, err := models.GetSettings(ctx, tx)
		if err != nil {
			return nil, err
		}
		token, err := models.ChatLinkToken(ctx, tx, r.Conv, time.Now().Add(models.ChatLinkTTL))
		if err != nil {
			return nil, err
		}
		lang := views.MatchLanguage(r.Conv.Language)
		vctx := views.WithLanguage(ctx, lang)
		m := views.CustomerMail{
			Desk: views.DeskName(vctx, settings), CustomerName: r.Conv.Customer.Name, Messages: r.Messages,
			Link: w.deps.BaseURL + "/chat/" + url.PathEscape(token), LinkDays: int(models.ChatLinkTTL / (24 * time.Hour)),
			BaseURL: w.deps.BaseURL,
		}
		var html bytes.Buffer
		if err := views.CustomerMailHTML(m).Render(vctx, &html); err != nil {
			return nil, err
		}
		return &Email{
			To: r.Conv.Customer.Email, ToName: r.Conv.Customer.Name, Language: lang,
			Subject: views.CustomerMailSubject(vctx, m), Text: views.CustomerMailText(vctx, m), HTML: html.String(),
		}, nil
	}, "customer", job.ID)
}
