package views

import (
	"context"

	"github.com/parleydesk/parley/models"
)

// participantLine is an agent's "joined" or "left" status line: for the
// customer (only a visible agent's, and without who invited them) or for
// staff (hidden ones marked so, and the inviter named).
func participantLine(ctx context.Context, m *models.Message, customer bool) string {
	name, _ := m.EventData["name"].(string)
	by, _ := m.EventData["by"].(string)
	data := map[string]any{"Name": name, "By": by}
	switch {
	case customer && m.Event == models.SysJoined:
		return T(ctx, "participants.line_joined", data)
	case customer:
		return T(ctx, "participants.line_left", data)
	case m.Event == models.SysJoined && by != "":
		return T(ctx, "participants.line_joined_invited", data)
	case m.Event == models.SysJoined:
		return T(ctx, "participants.line_joined", data)
	case m.Event == models.SysLeft:
		return T(ctx, "participants.line_left", data)
	case m.Event == models.SysJoinedHidden:
		return T(ctx, "participants.line_joined_hidden", data)
	}
	return T(ctx, "participants.line_left_hidden", data)
}

func participantsURL(c *models.Conversation, action string) string {
	return "/conversations/" + c.PublicID + "/participants/" + action
}
