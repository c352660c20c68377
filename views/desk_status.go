package views

import (
	"context"

	"github.com/parleydesk/parley/models"
)

// deskSwitchAction names setting the desk online (to=true) or offline.
func deskSwitchAction(ctx context.Context, to bool) string {
	if to {
		return T(ctx, "desk.switch_to_online")
	}
	return T(ctx, "desk.switch_to_offline")
}

// deskSwitchQuestion asks before the desk is set online (to=true) or offline.
func deskSwitchQuestion(ctx context.Context, to bool) string {
	if to {
		return T(ctx, "desk.switch_question_online")
	}
	return T(ctx, "desk.switch_question_offline")
}

// deskStatusChangeText is one line of the desk's status history:
// "Ana set the desk offline at 2026-12-04 10:02 UTC".
func deskStatusChangeText(ctx context.Context, ch *models.DeskStatusChange) string {
	d := map[string]any{"Name": ch.UserName, "Time": timeText(ch.CreatedAt)}
	if ch.Online {
		return T(ctx, "desk.status_change_online", d)
	}
	return T(ctx, "desk.status_change_offline", d)
}

// DeskName is what customers and emails call the desk: its name, or, for a
// desk not named yet, "Support" in the reader's language.
func DeskName(ctx context.Context, s *models.DeskSettings) string {
	if s == nil || s.DeskName == "" {
		return T(ctx, "widget.default_desk_name")
	}
	return s.DeskName
}
