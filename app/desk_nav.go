package app

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// withDesk prepares what every full staff page shows of the desk: unread
// counts, the online switch, and the resume position of the page's live
// stream. The position is taken before the handler reads anything, so the
// stream replays whatever changes after. Fragments and streams need none of
// it; a form post may still render a full page (a 422), so it gets it too.
func (a *App) withDesk(c echo.Context) error {
	req := c.Request()
	if req.Method == http.MethodHead || views.Req(req.Context()).Fragment || req.Header.Get("Accept") == "text/event-stream" {
		return nil
	}
	// The cursor is taken before the handler reads anything; the navigation
	// counts are loaded only if a full page is rendered (see loadDeskNav), so
	// form posts that redirect don't pay for them.
	c.SetRequest(req.WithContext(views.WithDesk(req.Context(), &views.Desk{Cursor: a.rt.Cursor()})))
	return nil
}

// loadDeskNav fills in the navigation counts of a full staff page about to
// be rendered.
func (a *App) loadDeskNav(c echo.Context) error {
	if !deskNavWanted(c) {
		return nil
	}
	d, u := views.DeskOf(ctxOf(c)), currentUser(c)
	var nav models.NavState
	var err error
	if s, ok := c.Get(ctxSettings).(*models.DeskSettings); ok {
		nav, err = models.DeskNavOf(ctxOf(c), a.db, u, s.Online)
	} else {
		nav, err = models.DeskNav(ctxOf(c), a.db, u)
	}
	if err != nil {
		return err
	}
	d.Nav, d.NavLoaded = nav, true
	return nil
}

// deskNavWanted reports whether the page c renders shows the desk's
// navigation and has not read its counts yet: a whole staff page, not a
// region (a click in the desk), a fragment or a stream. A handler that
// reads them with its own page (models.PageReads.Bell) asks first, and
// gives them to setDeskNav.
func deskNavWanted(c echo.Context) bool {
	d := views.DeskOf(ctxOf(c))
	return d != nil && !d.NavLoaded && !d.Region && currentUser(c) != nil && !views.Req(ctxOf(c)).Fragment
}

// setDeskNav gives the page the navigation counts its handler read
// (bell: nil if it did not), with the online switch from the page's
// settings.
func setDeskNav(c echo.Context, settings *models.DeskSettings, bell *int) {
	d := views.DeskOf(ctxOf(c))
	if d == nil || bell == nil {
		return
	}
	d.Nav, d.NavLoaded = models.NavState{Online: settings.Online, Notifications: *bell}, true
}

// deskPage reports whether path is a page drawn in the desk's own layout
// (views.DeskShell), whose shell a click there keeps.
func deskPage(path string) bool {
	return path == "/inbox" || path == "/mine" ||
		(strings.HasPrefix(path, "/conversations/") && strings.Count(path, "/") == 2 && len(path) > len("/conversations/"))
}

// regionOnly reports whether a desk page may answer with its region only
// (views.Desk.Region): a boosted GET (a click, swap.js) from a page in the
// desk's layout, which keeps that page's shell. A back or forward
// (HX-History-Restore-Request), a plain link, a click from any other page,
// or a page with a toast to show gets the whole page. If so, it marks the
// request's desk state and tells swap.js where the region goes; every
// answer names the headers that choose (Vary), the same URL answering both
// ways.
func regionOnly(c echo.Context) bool {
	req := c.Request()
	h := c.Response().Header()
	h.Add("Vary", "HX-Boosted")
	h.Add("Vary", "HX-Current-URL")
	h.Add("Vary", "HX-History-Restore-Request")
	d := views.DeskOf(ctxOf(c))
	if d == nil || req.Method != http.MethodGet || req.Header.Get("HX-Request") != "true" ||
		req.Header.Get("HX-Boosted") != "true" || req.Header.Get("HX-History-Restore-Request") == "true" ||
		len(views.Req(ctxOf(c)).Toasts) > 0 {
		return false
	}
	cur, err := url.Parse(req.Header.Get("HX-Current-URL"))
	if err != nil || !deskPage(cur.Path) {
		return false
	}
	d.Region = true
	h.Set("HX-Retarget", "#main")
	h.Set("HX-Reswap", "innerHTML")
	return true
}

// pageSettings are the desk settings for everything a page shows of them
// (waiting colours, service levels, file limits, the online switch in the
// nav), from the instance's copy (settingsCache: each of these records an
// event when it changes), so opening a conversation does not read them.
// It is for rendering only: a write reads the settings it obeys inside its
// own transaction.
func (a *App) pageSettings(c echo.Context) (*models.DeskSettings, error) {
	if s, ok := c.Get(ctxSettings).(*models.DeskSettings); ok {
		return s, nil
	}
	s, err := a.settings.get(ctxOf(c), a)
	if err != nil {
		return nil, err
	}
	c.Set(ctxSettings, s)
	return s, nil
}

// liveView tells the page's stream which list and conversation to keep live.
func liveView(c echo.Context, params models.StreamParams) {
	if d := views.DeskOf(ctxOf(c)); d != nil {
		d.Stream = params
	}
}

// back returns to the page the request came from (same site only), or to
// fallback.
func back(c echo.Context, fallback string) string {
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Host == c.Request().Host && ref.Path != "" {
		return safeNext(ref.RequestURI())
	}
	return fallback
}
