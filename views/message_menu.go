package views

import (
	"context"

	"github.com/parleydesk/parley/models"
)

// messagePath is the URL of message m of c in the desk (its menu's
// actions hang under it).
func messagePath(c *models.Conversation, m *models.Message) string {
	return "/conversations/" + c.PublicID + "/messages/" + idString(m.ID)
}

// revisionBy names who made a revision.
func revisionBy(ctx context.Context, r models.MessageRevision) string {
	if r.User != nil {
		return r.User.Name
	}
	return T(ctx, "desk.former_agent")
}
