package app

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The visitor's current page (issue 10 item 5), shown live in the desk's
// customer context panel while the widget is open. Nothing is stored: the
// frame reports the page of the customer's site it is on (POST
// /widget/page, on load, on navigation at most every 2 s, and every
// live.PageHeartbeat), each report is one ephemeral signal like typing,
// and each of the frame's live streams says when it opens and ends
// (widgetEvents), so closing the widget (its page) clears the page at once.

// frameHeader names the widget frame (random per page load) on the
// frame's requests, so its stream URLs can carry it.
const frameHeader = "X-Parley-Frame"

var frameIDRe = regexp.MustCompile(`^[A-Za-z0-9-]{16,64}$`)

// pageEvery is the fastest one frame's page reports are passed on.
const pageEvery = time.Second

// postWidgetPage: the widget is open on a page of the customer's site, or
// (state=left) its page is going away.
// The URL must be an http(s) URL on one of the sites the widget may run on
// (or Parley's own demo page); anything else is a 422 and nothing is sent.
func (a *App) postWidgetPage(c echo.Context) error {
	v := currentVisitor(c)
	frame := c.FormValue("frame")
	if !frameIDRe.MatchString(frame) {
		return models.Invalid("frame", "link_url_invalid", nil) // a client bug: 422
	}
	kind := live.SignalPage
	if c.FormValue("state") == "left" {
		kind = live.SignalPageLeft
	}
	ok, forget := a.gateSignal(c, "f"+frame, kind, pageEvery)
	if !ok {
		return c.NoContent(http.StatusNoContent) // the frame's next report says the same
	}
	sig := live.Signal{Kind: kind, CustomerID: v.CustomerID, Frame: frame}
	if kind == live.SignalPage {
		s, err := models.GetSettings(ctxOf(c), a.db)
		if err != nil {
			forget()
			return err
		}
		origins := append([]string{a.cfg.BaseURL.Scheme + "://" + a.cfg.BaseURL.Host}, s.AllowedOrigins...)
		if sig.URL, sig.Title, err = models.CheckVisitorPage(c.FormValue("url"), c.FormValue("title"), origins); err != nil {
			forget()
			return err // 422, the reason translated
		}
	}
	a.sendSignal(c, sig)
	return c.NoContent(http.StatusNoContent)
}

// framePresence is what a widget stream of frame says about it: open when
// it goes live, gone when it ends. Frames that did not name themselves
// (the full-page chat, which is on no customer page) say nothing.
func (a *App) framePresence(c echo.Context, customerID int64) (open, gone func()) {
	frame := c.QueryParam("frame")
	if !frameIDRe.MatchString(frame) {
		return nil, nil
	}
	signal := func(kind string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.rt.Signal(ctx, live.Signal{Kind: kind, CustomerID: customerID, Frame: frame}); err != nil {
			a.log.Warn("page signal", "kind", kind, "err", err)
		}
	}
	return func() { signal(live.SignalPageOpen) }, func() { signal(live.SignalPageGone) }
}

// visitorPage is where the customer's widget is open now, for the panel.
func (a *App) visitorPage(customerID *int64) *views.VisitorPage {
	if customerID == nil {
		return nil
	}
	p := a.rt.VisitorPage(*customerID)
	if p == nil {
		return nil
	}
	return &views.VisitorPage{URL: p.URL, Title: p.Title, Since: p.Since}
}
