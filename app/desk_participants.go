package app

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The Participants panel (models/participant.go): join, join hidden, leave,
// invite. Each answers htmx with the panel as it now is (a refusal: with
// the reason beside the field, 422); every other open desk hears of the
// change through the stream. Plain forms go back to the conversation.

// joinConversation puts the current agent in the conversation; hidden=true
// joins hidden.
func (a *App) joinConversation(c echo.Context) error {
	return a.changeParticipants(c, func(tx models.Tx, conv *models.Conversation) error {
		return models.JoinConversation(ctxOf(c), tx, currentUser(c), conv, c.FormValue("hidden") == "true")
	})
}

// leaveConversation takes the current agent out of the conversation.
func (a *App) leaveConversation(c echo.Context) error {
	return a.changeParticipants(c, func(tx models.Tx, conv *models.Conversation) error {
		return models.LeaveConversation(ctxOf(c), tx, currentUser(c), conv)
	})
}

// inviteParticipant puts the agent user_id in the conversation; they are
// notified.
func (a *App) inviteParticipant(c echo.Context) error {
	return a.changeParticipants(c, func(tx models.Tx, conv *models.Conversation) error {
		id, err := strconv.ParseInt(c.FormValue("user_id"), 10, 64)
		if err != nil || id <= 0 {
			return models.Invalid("user_id", "invitee_unknown", nil)
		}
		return models.InviteParticipant(ctxOf(c), tx, currentUser(c), conv, id)
	})
}

func (a *App) changeParticipants(c echo.Context, change func(models.Tx, *models.Conversation) error) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error { return change(tx, conv) })
	fragment := views.Req(ctxOf(c)).Fragment
	status := http.StatusOK
	switch {
	case isValidation(err) && fragment:
		status = http.StatusUnprocessableEntity
	case err != nil:
		return err
	case !fragment:
		return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
	}
	p, lerr := models.LoadParticipants(ctxOf(c), a.db, conv)
	if lerr != nil {
		return lerr
	}
	if p == nil {
		return err
	}
	form := views.NewForm(map[string]string{"user_id": c.FormValue("user_id")}, err)
	return a.render(c, status, views.ParticipantsSection(conv, p, form, false))
}
