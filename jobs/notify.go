package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// NotifyArgs asks for the in-app notifications of one event of the log. It
// carries the event itself (the log is pruned; the job must not depend on
// it), so the worker can ask models.AudienceOf who hears of it.
type NotifyArgs struct {
	EventID        int64  `json:"event_id"`
	EventKind      string `json:"event_kind"`
	ConversationID *int64 `json:"conversation_id,omitempty"`
	ItemID         *int64 `json:"item_id,omitempty"`
	MessageID      *int64 `json:"message_id,omitempty"`
	// Data is the event's payload, stored as the event log stores it.
	Data models.EventData `json:"data,omitempty"`
}

// UnmarshalJSON decodes Data by EventKind (models.DecodeEventData).
func (a *NotifyArgs) UnmarshalJSON(b []byte) error {
	type plain NotifyArgs
	var w struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := models.DecodeEventData(w.EventKind, w.Data)
	if err != nil {
		return err
	}
	*a = NotifyArgs(w.plain)
	a.Data = d
	return nil
}

// Kind is stored with each job row; it must never change.
func (NotifyArgs) Kind() string { return "notify" }

// MessageNotifyDelay is how long a message waits before its notifications
// are made: whoever has the conversation open and visible reads it in the
// meantime (the desk marks it read) and is not notified.
const MessageNotifyDelay = 10 * time.Second

// notifyFollowUps maps an event to its notify job: new customer
// conversations and assignments at once, messages after MessageNotifyDelay.
func notifyFollowUps(e models.Event) []river.InsertManyParams {
	args := NotifyArgs{EventID: e.ID, EventKind: e.Kind, ConversationID: e.ConversationID, ItemID: e.ItemID, MessageID: e.MessageID, Data: e.Data}
	item, isItem := e.Data.(models.ItemEvent)
	switch {
	case isItem && e.ItemID != nil && e.ConversationID == nil && (item.Created || item.Field != ""):
		return []river.InsertManyParams{{Args: args}}
	case e.ConversationID == nil:
		return nil
	case createdOrAssigned(e), invited(e), transferred(e), breached(e):
		return []river.InsertManyParams{{Args: args}}
	case e.Kind == models.EventMessage && e.MessageID != nil:
		at := e.CreatedAt
		if at.IsZero() {
			at = time.Now()
		}
		return []river.InsertManyParams{{Args: args, InsertOpts: &river.InsertOpts{ScheduledAt: at.Add(MessageNotifyDelay)}}}
	}
	return nil
}

// NotifyWorker makes the notifications NotifyArgs asks for.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	deps Deps
}

// Work finds the event's audience and notifies it; running it again for the
// same event creates nothing more.
func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
	a := job.Args
	ev := models.Event{ID: a.EventID, Kind: a.EventKind, ConversationID: a.ConversationID, ItemID: a.ItemID, MessageID: a.MessageID, Data: a.Data}
	auds, err := models.AudiencesOf(ctx, w.deps.DB, ev)
	if err != nil {
		return err
	}
	for _, aud := range auds {
		var n int
		err := w.deps.Writer.Write(ctx, func(tx models.Tx) (err error) {
			n, err = models.Notify(ctx, tx, ev, aud)
			return err
		})
		if err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		if n > 0 {
			w.deps.ring()
			w.deps.Log.DebugContext(ctx, "notified", "event", a.EventID, "reason", aud.Reason, "notifications", n)
		}
	}
	return nil
}
