package app

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// newTeammateChat shows the form that starts an internal conversation.
func (a *App) newTeammateChat(c echo.Context) error {
	return a.renderTeammateChat(c, http.StatusOK, nil, views.NewForm(nil, nil))
}

func (a *App) renderTeammateChat(c echo.Context, status int, picked map[int64]bool, f views.Form) error {
	users, err := models.ActiveUsers(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	me := currentUser(c)
	teammates := users[:0]
	for _, u := range users {
		if u.ID != me.ID {
			teammates = append(teammates, u)
		}
	}
	return a.render(c, status, views.NewTeammateChatPage(teammates, picked, f))
}

// createTeammateChat starts an internal conversation with the picked
// teammates and opens it.
func (a *App) createTeammateChat(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.ErrBadRequest
	}
	picked := map[int64]bool{}
	var ids []int64
	for _, v := range form["members"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return a.renderTeammateChat(c, http.StatusUnprocessableEntity, picked,
				views.NewForm(map[string]string{"body": form.Get("body")}, models.Invalid("members", "user_unknown", nil)))
		}
		picked[id] = true
		ids = append(ids, id)
	}
	var conv *models.Conversation
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		conv, _, err = models.StartInternalConversation(ctxOf(c), tx, currentUser(c), ids, form.Get("body"))
		return err
	})
	if isValidation(err) {
		return a.renderTeammateChat(c, http.StatusUnprocessableEntity, picked, views.NewForm(map[string]string{"body": form.Get("body")}, err))
	}
	if err != nil {
		return err
	}
	return a.redirect(c, "/conversations/"+conv.PublicID+"?list=mine")
}
