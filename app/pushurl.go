package app

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// pushURL sends a URL to the conversation's customer (models.PushURL): the
// widget shows it as a card with an Open button. The pushed message reaches
// every open desk and the widget through the streams; htmx gets the form
// back, empty, or with the reason beside the field (422: a javascript: or
// malformed URL, nothing stored).
func (a *App) pushURL(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("url")
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.PushURL(ctxOf(c), tx, currentUser(c), conv, raw, key)
		return err
	})
	fragment := views.Req(ctxOf(c)).Fragment
	switch {
	case isValidation(err):
		form := views.NewForm(map[string]string{"url": raw}, err)
		if fragment {
			return a.render(c, http.StatusUnprocessableEntity, views.PushURLForm(conv, form))
		}
		c.SetRequest(c.Request().WithContext(views.WithPushForm(ctxOf(c), form)))
		return a.renderConversation(c, http.StatusUnprocessableEntity, views.Form{})
	case err != nil:
		return err
	case fragment:
		return a.render(c, http.StatusOK, views.PushURLForm(conv, views.Form{}))
	}
	return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
}

// openWidgetLink is the widget's report that the customer opened a pushed
// URL (its Open button, or the tab widget-frame.js opened as it arrived):
// the first report records it with a status line for the desk
// (models.OpenPushedURL), later ones change nothing. Like every widget
// post it is authenticated by the X-Parley-Visitor header, which a
// cross-site form cannot send, so it needs no CSRF token; another
// conversation's or a message that is not a push is a 404.
func (a *App) openWidgetLink(c echo.Context) error {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return models.ErrNotFound
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.OpenPushedURL(ctxOf(c), tx, v, conv, id)
		return err
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
