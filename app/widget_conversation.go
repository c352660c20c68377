package app

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// conversationListLimit is how many past conversations the home view lists.
const conversationListLimit = 30

// widgetHome shows the visitor's conversations and the form to start one.
func (a *App) widgetHome(c echo.Context) error {
	return a.renderWidgetHome(c, http.StatusOK, views.Form{})
}

func (a *App) renderWidgetHome(c echo.Context, status int, f views.Form) error {
	since := a.rt.Cursor() // before reading: the stream replays anything newer
	v := currentVisitor(c)
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	convs, err := models.VisitorConversations(ctxOf(c), a.db, v, conversationListLimit)
	if err != nil {
		return err
	}
	return a.renderWidget(c, status, s, views.WidgetHomeView(views.WidgetHome{
		Settings: s, Visitor: v, Conversations: convs, Form: f, StreamURL: a.streamURL(c, since, ""),
	}))
}

// startWidgetConversation opens a conversation with the visitor's first
// message and the details of the page and browser they write from.
func (a *App) startWidgetConversation(c echo.Context) error {
	v := currentVisitor(c)
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	in := models.VisitorStart{
		Body: c.FormValue("body"), Name: c.FormValue("name"), Email: c.FormValue("email"),
		Session: sessionInfo(c), IdempotencyKey: key,
	}
	var conv *models.Conversation
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		conv, _, err = models.StartVisitorConversation(ctxOf(c), tx, v, in)
		return err
	})
	switch {
	case errors.Is(err, models.ErrIdentityRequired):
		return a.widgetToast(c, http.StatusForbidden, tr(c, "widget.identity_required"))
	case isValidation(err):
		return a.renderWidgetHome(c, http.StatusUnprocessableEntity, views.NewForm(map[string]string{
			"body": in.Body, "name": in.Name, "email": in.Email}, err))
	case err != nil:
		return err
	}
	return a.renderWidgetThread(c, http.StatusOK, conv, views.Form{})
}

// showWidgetConversation shows one of the visitor's conversations; anyone
// else's, an internal one or an unknown id is the same 404. With
// before=<message id> it answers the page of messages before that one (what
// the customer may see), for the thread's "Load earlier" button.
func (a *App) showWidgetConversation(c echo.Context) error {
	before, err := messageCursor(c)
	if err != nil {
		return err
	}
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, currentVisitor(c), c.Param("pid"))
	if err != nil {
		return err
	}
	if before > 0 {
		s, err := models.GetSettings(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		page, err := models.ListMessagesBefore(ctxOf(c), a.db, conv, true, before, models.MessageLimit)
		if err != nil {
			return err
		}
		return a.render(c, http.StatusOK, views.WidgetEarlier(conv.PublicID, page, s))
	}
	return a.renderWidgetThread(c, http.StatusOK, conv, views.Form{})
}

func (a *App) renderWidgetThread(c echo.Context, status int, conv *models.Conversation, composer views.Form) error {
	since := a.rt.Cursor()
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	page, err := models.ListMessagesBefore(ctxOf(c), a.db, conv, true, 0, models.MessageLimit)
	if err != nil {
		return err
	}
	composer.FileLimits = s.FileLimits()
	// A read: the frame reports what the visitor saw with its explicit
	// read receipt (POST /widget/conversations/:pid/read) once the thread
	// is on screen, so a prefetch or a crawler of this URL moves nothing.
	media, err := models.MediaSessions(ctxOf(c), a.db, conv, 1)
	if err != nil {
		return err
	}
	cob, err := models.RunningCobrowse(ctxOf(c), a.db, conv.ID)
	if err != nil {
		return err
	}
	return a.renderWidget(c, status, s, views.WidgetThreadView(views.WidgetThread{
		Cobrowse: cob,
		Settings: s, Visitor: currentVisitor(c), Conv: conv, Messages: page.Messages, More: page.More, Composer: composer,
		StreamURL: a.streamURL(c, since, conv.PublicID), TranscriptURL: a.widgetTranscriptURL(c, conv),
		Media: models.RunningMedia(media),
	}))
}

// postWidgetMessage adds the visitor's message (reopening a closed
// conversation). The answer is a fresh composer; the message itself reaches
// the thread through the stream, like everyone else's. A retry with the
// same idempotency key gets the same answer and stores nothing.
func (a *App) postWidgetMessage(c echo.Context) error {
	v := currentVisitor(c)
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	body, files := c.FormValue("body"), formFiles(c)
	// The conversation is looked up, scoped to the visitor, and locked in
	// the write itself: one read of its row per post.
	var conv *models.Conversation
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		if conv, err = models.LockConversationForVisitor(ctxOf(c), tx, v, c.Param("pid")); err != nil {
			return err
		}
		_, err = models.PostVisitorMessage(ctxOf(c), tx, v, conv, body, models.PostOpts{IdempotencyKey: key, Files: files, Locked: true})
		return err
	})
	if conv == nil {
		return err // not found (or not the visitor's), or the database failed
	}
	limits, lerr := a.composerLimits(ctxOf(c))
	if lerr != nil {
		return lerr
	}
	switch {
	case errors.Is(err, models.ErrIdentityRequired):
		return a.widgetToast(c, http.StatusForbidden, tr(c, "widget.identity_required"))
	case isValidation(err):
		form := views.NewForm(map[string]string{"body": body}, err)
		form.FileLimits = limits
		if form.Files, err = models.PendingFiles(ctxOf(c), a.db, models.Actor{Customer: v.Customer}, conv, files); err != nil {
			return err
		}
		return a.render(c, http.StatusUnprocessableEntity, views.WidgetComposer(conv.PublicID, form))
	case err != nil:
		return err
	}
	return a.render(c, http.StatusOK, views.WidgetComposer(conv.PublicID, views.Form{FileLimits: limits}))
}

// saveWidgetContact stores the email an anonymous visitor leaves while the
// desk is offline (never on a verified customer: that is a 404).
func (a *App) saveWidgetContact(c echo.Context) error {
	email := c.FormValue("email")
	cust, err := models.SaveVisitorEmail(ctxOf(c), a.db, currentVisitor(c), email)
	if isValidation(err) {
		return a.render(c, http.StatusUnprocessableEntity, views.WidgetAskEmail(true, "", views.NewForm(map[string]string{"email": email}, err), false))
	}
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.WidgetAskEmail(false, cust.Email, views.Form{}, false))
}

// sessionInfo describes where and with what the visitor writes: the host
// page and its referrer (passed by the loader), the browser and OS parsed
// from the user agent, language and time zone.
func sessionInfo(c echo.Context) models.SessionInfo {
	ua := userAgent(c)
	browser, os := models.ParseUserAgent(ua)
	// What the browser claims is checked by models (SessionInfo.Clean).
	return models.SessionInfo{
		PageURL: c.FormValue("page_url"), Referrer: c.FormValue("referrer"),
		UserAgent: ua, Browser: browser, OS: os, Language: c.FormValue("lang"), Timezone: c.FormValue("tz"),
	}.Clean()
}

// markWidgetRead moves the customer's read marker when the open thread
// shows new messages (widget-frame.js sends it, at most about once a
// second): replies they saw are not emailed to them.
func (a *App) markWidgetRead(c echo.Context) error {
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, currentVisitor(c), c.Param("pid"))
	if err != nil {
		return err
	}
	upTo, err := strconv.ParseInt(c.FormValue("up_to"), 10, 64)
	if err != nil || upTo <= 0 {
		return c.NoContent(http.StatusBadRequest)
	}
	moved, err := models.MarkCustomerRead(ctxOf(c), a.db, conv, upTo)
	if err != nil {
		return err
	}
	if moved && conv.Kind == models.KindCustomer {
		// Agents see "Seen" move live: a signal, not an event (the marker
		// itself is stored; the page shows it when loaded).
		a.sendSignal(c, live.Signal{Kind: live.SignalSeen, ConversationID: conv.ID, MessageID: min(upTo, conv.LastMessageID)})
	}
	return c.NoContent(http.StatusNoContent)
}
