package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// MailEventArgs asks for the emails a write's events call for to be
// scheduled: one per staff user an event concerns (by their preferences),
// and, for an agent's reply, one to a customer who may have left. It is a
// fan-out: the emails themselves are AgentEmailArgs and CustomerEmailArgs
// jobs, inserted in one transaction with what they will send marked
// pending, so running this twice schedules nothing twice (and the send jobs
// are idempotent anyway). One job per write, however many events it made.
type MailEventArgs struct {
	Events []models.Event `json:"events"`
}

// Kind is stored with each job row; it must never change.
func (MailEventArgs) Kind() string { return "mail_event" }

// InsertOpts: a handful of quick retries; the fan-out only touches the
// database.
func (MailEventArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// mailFollowUps maps a write's events to its mail fan-out job: messages,
// new conversations and assignments may email someone; the rest never do.
func mailFollowUps(evs []models.Event) []river.InsertManyParams {
	var mine []models.Event
	for _, e := range evs {
		switch {
		case e.ConversationID == nil:
		case e.Kind == models.EventMessage && e.MessageID != nil, createdOrAssigned(e), breached(e):
			mine = append(mine, e)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	return []river.InsertManyParams{{Args: MailEventArgs{Events: mine}}}
}

// MailEventWorker runs MailEventArgs.
type MailEventWorker struct {
	river.WorkerDefaults[MailEventArgs]
	deps Deps
}

// Work schedules the event's emails. With email disabled it does nothing.
func (w *MailEventWorker) Work(ctx context.Context, job *river.Job[MailEventArgs]) error {
	if w.deps.Mailer == nil {
		return nil
	}
	return models.Transaction(ctx, w.deps.DB, func(tx *gorm.DB) error {
		var params []river.InsertManyParams
		now := time.Now()
		for _, e := range job.Args.Events {
			aud, err := models.AudienceOf(ctx, tx, e)
			if err != nil {
				return err
			}
			due, err := models.QueueAgentEmails(ctx, tx, e, aud)
			if err != nil {
				return err
			}
			for _, d := range due {
				p := river.InsertManyParams{Args: AgentEmailArgs{EventID: e.ID, UserID: d.UserID}}
				if d.Delay > 0 {
					p.InsertOpts = &river.InsertOpts{ScheduledAt: now.Add(d.Delay)}
				}
				params = append(params, p)
			}
			if e.Kind == models.EventMessage && e.MessageID != nil {
				p, err := w.customerFollowUp(ctx, tx, *e.MessageID)
				if err != nil {
					return err
				}
				params = append(params, p...)
			}
		}
		if len(params) == 0 {
			return nil
		}
		return w.deps.InsertTx(ctx, tx, params)
	})
}

// customerFollowUp schedules the continuity email for an agent's reply in a
// customer conversation whose customer left an address. A customer with no
// email gets nothing scheduled.
func (w *MailEventWorker) customerFollowUp(ctx context.Context, tx *gorm.DB, messageID int64) ([]river.InsertManyParams, error) {
	var row struct {
		ConversationID int64
		CreatedAt      time.Time
	}
	err := tx.WithContext(ctx).Raw(`
		SELECT m.conversation_id, m.created_at FROM messages m
		JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'customer'
		JOIN customers cu ON cu.id = c.customer_id AND cu.email <> ''
		WHERE m.id = ? AND m.kind = 'message' AND m.author_type = 'agent'`, messageID).Scan(&row).Error
	if err != nil {
		return nil, fmt.Errorf("customer follow-up of message %d: %w", messageID, err)
	}
	if row.ConversationID == 0 {
		return nil, nil
	}
	return []river.InsertManyParams{{
		Args:       CustomerEmailArgs{ConversationID: row.ConversationID, MessageID: messageID},
		InsertOpts: &river.InsertOpts{ScheduledAt: row.CreatedAt.Add(w.deps.CustomerEmailDelay)},
	}}, nil
}
