package views

import (
	"context"
	"strconv"
	"strings"

	"github.com/parleydesk/parley/models"
)

// PrivateToValue is how a composer form keeps the recipients a private
// message was sent to (the "to" checkboxes) when it comes back: their ids,
// comma-separated.
func PrivateToValue(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// privateToChecked reports whether the composer's "to" box of user id was
// ticked (PrivateToValue).
func privateToChecked(f Form, id int64) bool {
	want := strconv.FormatInt(id, 10)
	for _, v := range strings.Split(f.Get("to"), ",") {
		if v == want {
			return true
		}
	}
	return false
}

// otherTeammates are the teammates in a conversation a viewer may write a
// private message to: all but themselves.
func otherTeammates(us []models.User, me *models.User) []models.User {
	var out []models.User
	for _, u := range us {
		if me == nil || u.ID != me.ID {
			out = append(out, u)
		}
	}
	return out
}

// agentMailAuthor names a message's author in a staff email, marking a
// private message as such (only its recipients are ever emailed it).
func agentMailAuthor(ctx context.Context, m models.Message) string {
	if m.Kind == models.MessagePrivate {
		return mailAuthor(m) + " (" + T(ctx, "private.mail_label") + ")"
	}
	return mailAuthor(m)
}
