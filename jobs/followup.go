package jobs

import (
	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// FollowUps returns the jobs that a transaction's events call for, to be
// inserted in that same transaction (app.write does this for every change
// made through the desk or the widget). It is the one place that says which
// background work follows which change.
//
// With email disabled (no mailer), no email job is inserted.
func FollowUps(evs []models.Event, o FollowUpOptions) []river.InsertManyParams {
	var out []river.InsertManyParams
	for _, e := range evs {
		out = append(out, notifyFollowUps(e)...)
		// Removed files: their bytes are deleted from storage.
		if r, ok := e.Data.(models.FilesRemovedEvent); ok && len(r.FileIDs) > 0 {
			out = append(out, river.InsertManyParams{Args: DeleteFilesArgs{FileIDs: r.FileIDs}})
		}
		out = append(out, cobrowseFollowUps(e)...)
	}
	if o.Mail {
		out = append(out, mailFollowUps(evs)...)
	}
	return out
}

// FollowUpOptions says which optional work is on.
type FollowUpOptions struct {
	// Mail: an SMTP server is configured.
	Mail bool
}

// createdOrAssigned reports whether e announces a new conversation or an
// assignment: what notifies and may email someone at once.
func createdOrAssigned(e models.Event) bool {
	c, ok := e.Data.(models.ConversationEvent)
	return ok && (c.Created || c.Assigned)
}

// transferred reports whether e puts a conversation in a team's queue on
// an agent's transfer: the team hears of it at once if nobody took it (in
// the bell; no email).
func transferred(e models.Event) bool {
	c, ok := e.Data.(models.ConversationEvent)
	return ok && c.Transferred && c.ByUserID != 0
}

// invited reports whether e puts an agent in a conversation on another's
// invitation: the invitee hears of it at once (in the bell; no email).
func invited(e models.Event) bool {
	c, ok := e.Data.(models.ConversationEvent)
	return ok && c.Participant != nil && c.Participant.Joined && c.Participant.ByUserID != 0
}

// breached reports whether e announces a service-level breach: the
// assignee and the team hear of it at once, in the bell and by email.
func breached(e models.Event) bool {
	_, ok := e.Data.(models.SLABreachEvent)
	return ok
}
