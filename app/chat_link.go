package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// openChatLink is where the link in a customer's email lands: a valid,
// unexpired link starts a visitor for that customer in this browser, scoped
// to the link's conversation (the customer's others stay out of reach), and
// opens it in the messenger as a full page (the widget frame, standalone).
// Anything else is a 404.
func (a *App) openChatLink(c echo.Context) error {
	token, conv, err := models.RedeemChatLink(ctxOf(c), a.db, c.Param("token"), time.Now())
	if err != nil {
		return err
	}
	return openChatPage(c, token, conv)
}

// openChatPage sends a browser holding a new visitor token to conv in the
// messenger as a full page (the standalone widget frame): the chat links of
// emails and support sessions (support.go) land here.
func openChatPage(c echo.Context, token string, conv *models.Conversation) error {
	boot, err := json.Marshal(map[string]string{"t": token, "c": conv.PublicID})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	// The visitor token travels in the fragment, which browsers never send
	// to a server; the frame reads it and removes it from the address.
	// view=page lays the frame out as a full-page chat.
	return c.Redirect(http.StatusSeeOther, "/widget/frame?view=page&lang="+url.QueryEscape(views.MatchLanguage(conv.Language))+"#"+url.PathEscape(string(boot)))
}
