package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Support sessions, the desk's side: start one (a key to hand the customer)
// and end it. Agents only (models.IsSupportAgent); the customer's side is
// support.go.

// newSession shows the form that starts a support session.
func (a *App) newSession(c echo.Context) error {
	if !models.IsSupportAgent(currentUser(c)) {
		return models.ErrForbidden
	}
	return a.render(c, http.StatusOK, views.NewSessionPage(views.NewForm(nil, nil)))
}

// createSession starts a support session and opens its conversation, where
// the key, its link and the end button are.
func (a *App) createSession(c echo.Context) error {
	request := c.FormValue("request")
	var conv *models.Conversation
	err := a.write(ctxOf(c), func(tx models.Tx) (err error) {
		_, conv, err = models.CreateSupportSession(ctxOf(c), tx, currentUser(c), request, time.Now())
		return err
	})
	if isValidation(err) {
		return a.render(c, http.StatusUnprocessableEntity, views.NewSessionPage(views.NewForm(map[string]string{"request": request}, err)))
	}
	if err != nil {
		return err
	}
	return a.redirect(c, "/conversations/"+conv.PublicID)
}

// endSession ends the route's support session: the key stops working and
// the customer sees the chat ended.
func (a *App) endSession(c echo.Context) error {
	if !models.IsSupportAgent(currentUser(c)) {
		return models.ErrForbidden
	}
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.EndSupportSession(ctxOf(c), tx, currentUser(c), conv)
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/conversations/"+conv.PublicID)
}

// inviteToSession sends the session's key to the customer by email or
// SMS: the invitation is recorded and its job inserted in one transaction;
// the job's outcome appears in the thread ("sent to … at 10:02", or the
// provider's error).
func (a *App) inviteToSession(c echo.Context) error {
	if !models.IsSupportAgent(currentUser(c)) {
		return models.ErrForbidden
	}
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	in := models.Invite{Channel: c.FormValue("channel"), Language: views.Lang(ctxOf(c)), Region: a.cfg.SMS.Region}
	switch in.Channel {
	case models.InviteEmail:
		in.Address = c.FormValue("email")
	case models.InviteSMS:
		if a.cfg.SMS.Provider == "" {
			return echo.ErrNotFound
		}
		in.Address = c.FormValue("phone")
	default:
		return echo.ErrBadRequest
	}
	if l := c.FormValue("lang"); l != "" {
		if !slices.Contains(models.Languages, l) {
			return echo.ErrBadRequest
		}
		in.Language = l
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		inv, err := models.InviteToSession(ctxOf(c), tx, currentUser(c), conv, in, time.Now())
		if err != nil {
			return err
		}
		return a.InsertJobsTx(ctxOf(c), tx.DB(), []river.InsertManyParams{{Args: jobs.SessionInviteArgs{InvitationID: inv.ID}}})
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/conversations/"+conv.PublicID)
}

// loadSupportSession adds a customer conversation's support session to v
// for support staff, and the base URL its join link is shown with.
func (a *App) loadSupportSession(c echo.Context, v *models.ConversationView) error {
	if v.Conversation.Kind != models.KindCustomer || !models.CanSeeCustomerData(currentUser(c)) {
		return nil
	}
	s, err := models.FindSupportSession(ctxOf(c), a.db, v.Conversation.ID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	v.Support = s
	c.SetRequest(c.Request().WithContext(views.WithSessionsConf(ctxOf(c), a.cfg.BaseURL.String(), a.cfg.SMS.Provider != "")))
	return nil
}

// newSMSSender is the configured SMS sender, or nil.
func newSMSSender(c SMSConfig) jobs.SMSSender {
	switch c.Provider {
	case "twilio":
		return &jobs.TwilioSender{BaseURL: c.TwilioBaseURL, AccountSID: c.TwilioAccountSID, AuthToken: c.TwilioAuthToken, From: c.TwilioFrom}
	case "webhook":
		return &jobs.WebhookSender{URL: c.WebhookURL, Secret: c.WebhookSecret}
	}
	return nil
}

// renderSupportSession re-renders the open conversation's support-session
// panel for the desk stream when one of msgs changed it (the customer
// joined, the session ended, an invitation left or failed).
func (a *App) renderSupportSession(ctx context.Context, u *models.User, conv *models.Conversation, msgs []*models.Message, add func(templ.Component) error) error {
	if conv.Kind != models.KindCustomer || !models.CanSeeCustomerData(u) {
		return nil
	}
	changed := false
	for _, m := range msgs {
		switch m.Event {
		case models.SysSessionJoined, models.SysSessionEnded, models.SysInviteSent, models.SysInviteFailed:
			changed = true
		}
	}
	if !changed {
		return nil
	}
	s, err := models.FindSupportSession(ctx, a.db, conv.ID)
	if errors.Is(err, models.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	base, sms := a.cfg.BaseURL.String(), a.cfg.SMS.Provider != ""
	return add(templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		return views.SupportSessionPanel(conv, s, true).Render(views.WithSessionsConf(ctx, base, sms), w)
	}))
}

// renderSessionJoined tells the agent a support session is assigned to
// that its customer has arrived (the session_joined status line): a toast
// that desk.js turns into the chime (unless the user muted alerts,
// users.notify_sound) and a desktop notification, on whatever desk page
// the agent is, so nobody waits for a tab they are not looking at. A
// replayed batch shares the alert's id, so desk.js chimes once.
func (v *deskViewer) renderSessionJoined(b *live.Batch, evs []models.Event, rows map[int64]*models.InboxRow, add func(templ.Component) error) error {
	if !models.IsSupportAgent(v.user) {
		return nil
	}
	for _, e := range evs {
		if e.Kind != models.EventMessage || e.MessageID == nil || e.ConversationID == nil {
			continue
		}
		m, r := b.Messages[*e.MessageID], rows[*e.ConversationID]
		if m == nil || m.Event != models.SysSessionJoined || r == nil || r.AssigneeID == nil || *r.AssigneeID != v.user.ID {
			continue
		}
		if err := add(views.SessionJoinedAlert(r, m.ID, v.user.NotifySound)); err != nil {
			return err
		}
	}
	return nil
}
