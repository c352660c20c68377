package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The per-message menu of the desk thread (views.MessageMenu): a message's
// author, its edit form, edit and delete, and its history for admins. The
// rules are models' (CanChangeMessage, CanSeeMessageHistory); the changes
// reach every open desk and the customer's widget through the stream.

// message finds the route's conversation (as a.conversation: 404 for what
// the user may not see) and its message :mid (404 too for a private message
// the user is neither the author nor a recipient of).
func (a *App) message(c echo.Context) (*models.Conversation, *models.Message, error) {
	conv, err := a.conversation(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(c.Param("mid"), 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, models.ErrNotFound
	}
	m, err := models.FindMessageFor(ctxOf(c), a.db, conv, currentUser(c), id)
	if err != nil {
		return nil, nil, err
	}
	return conv, m, nil
}

// messageAnchor is the message's place in its conversation's page.
func messageAnchor(conv *models.Conversation, m *models.Message) string {
	return "/conversations/" + conv.PublicID + "#msg-" + strconv.FormatInt(m.ID, 10)
}

// showMessage answers with the message as the thread shows it (the edit
// form's Cancel); a plain request goes to its place in the conversation.
func (a *App) showMessage(c echo.Context) error {
	conv, m, err := a.message(c)
	if err != nil {
		return err
	}
	if !views.Req(ctxOf(c)).Fragment {
		return a.redirect(c, messageAnchor(conv, m))
	}
	return a.render(c, http.StatusOK, views.MessageItem(m, conv, currentUser(c)))
}

// editMessageForm puts the message's edit form in its place.
func (a *App) editMessageForm(c echo.Context) error {
	conv, m, err := a.message(c)
	if err != nil {
		return err
	}
	if !models.CanChangeMessage(currentUser(c), m) {
		return a.messageForbidden(c, m, "")
	}
	return a.render(c, http.StatusOK, views.MessageEditing(m, conv, views.NewForm(map[string]string{"body": m.Body}, nil)))
}

// updateMessage saves an edit: the message as it now reads, or the form
// with the problem beside the field (422); someone else's message (for a
// non-admin) or a status line is a 403 saying so. Nothing is stored unless
// it succeeds.
func (a *App) updateMessage(c echo.Context) error {
	conv, m, err := a.message(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	var edited *models.Message
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		edited, err = models.EditMessage(ctxOf(c), tx, currentUser(c), conv, m.ID, body)
		return err
	})
	switch {
	case errors.Is(err, models.ErrForbidden):
		return a.messageForbidden(c, m, "")
	case isValidation(err):
		return a.render(c, http.StatusUnprocessableEntity, views.MessageEditing(m, conv, views.NewForm(map[string]string{"body": body}, err)))
	case err != nil:
		return err
	case !views.Req(ctxOf(c)).Fragment:
		return a.redirect(c, messageAnchor(conv, m))
	}
	return a.render(c, http.StatusOK, views.MessageItem(edited, conv, currentUser(c)))
}

// deleteMessage deletes a message (the rules of updateMessage): it stays in
// the thread as "message deleted".
func (a *App) deleteMessage(c echo.Context) error {
	conv, m, err := a.message(c)
	if err != nil {
		return err
	}
	var deleted *models.Message
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		deleted, err = models.DeleteMessage(ctxOf(c), tx, currentUser(c), conv, m.ID)
		return err
	})
	switch {
	case errors.Is(err, models.ErrForbidden):
		return a.messageForbidden(c, m, "")
	case err != nil:
		return err
	case !views.Req(ctxOf(c)).Fragment:
		return a.redirect(c, messageAnchor(conv, m))
	}
	return a.render(c, http.StatusOK, views.MessageItem(deleted, conv, currentUser(c)))
}

// messageAuthor is the author's card, shown in the message's panel.
func (a *App) messageAuthor(c echo.Context) error {
	_, m, err := a.message(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.MessageAuthorCard(m, currentUser(c)))
}

// messageHistory lists what the message said before each edit and its
// deletion: admins only (403 otherwise).
func (a *App) messageHistory(c echo.Context) error {
	_, m, err := a.message(c)
	if err != nil {
		return err
	}
	revs, err := models.MessageHistory(ctxOf(c), a.db, currentUser(c), m)
	if errors.Is(err, models.ErrForbidden) {
		return a.messageForbidden(c, m, "msgmenu.history_forbidden")
	}
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.MessageHistoryPanel(revs))
}

// messageForbidden answers 403 with what the user may not do to m: change
// someone else's message, or a status line (msgID overrides), as a toast
// for htmx and on the error page otherwise.
func (a *App) messageForbidden(c echo.Context, m *models.Message, msgID string) error {
	if msgID == "" {
		msgID = "msgmenu.forbidden"
		if m.Kind == models.MessageSystem {
			msgID = "msgmenu.not_editable"
		}
	}
	message := tr(c, msgID)
	if c.Request().Header.Get("HX-Request") == "true" {
		b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": "error", "message": message}})
		c.Response().Header().Set("HX-Trigger", string(b))
	}
	return a.render(c, http.StatusForbidden, views.ErrorPage(http.StatusForbidden, tr(c, "error.forbidden_title"), message))
}
