package app

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// deskPageSize is how many conversations a list page shows.
const deskPageSize = 50

// listQuery reads a list's tab, filter and page from the query string
// (models.ParseInboxQuery; the path names the section). Unknown tabs and
// filters fall back to the defaults; a cursor that was not made by an
// "Older" link is a bad request.
func listQuery(c echo.Context, section string) (models.InboxQuery, error) {
	v := url.Values{}
	for k, vs := range c.QueryParams() {
		v[k] = vs
	}
	v.Set("list", section)
	q, err := models.ParseInboxQuery(v)
	q.Viewer, q.Limit = currentUser(c), deskPageSize+1
	if err != nil {
		return q, echo.ErrBadRequest
	}
	return q, nil
}

// listState pages rows: one row more than a page means there is an older
// page, which starts after the last row shown.
func listState(q models.InboxQuery, rows []models.InboxRow, current string) (views.ListState, []models.InboxRow) {
	l := views.ListState{Query: q, Current: current}
	if len(rows) > deskPageSize {
		rows = rows[:deskPageSize]
		older := rows[len(rows)-1].CursorIn(q.Sort)
		l.Older = &older
	}
	return l, rows
}

// listInbox is the customers section: customer conversations, for agents
// with the customer-support flag only.
func (a *App) listInbox(c echo.Context) error {
	if !models.CanSeeCustomerData(currentUser(c)) {
		return errForbidden
	}
	return a.showList(c, models.SectionCustomers, "inbox")
}

// listMine is My conversations: assigned to me, followed, written in, and
// internal conversations with teammates.
func (a *App) listMine(c echo.Context) error {
	return a.showList(c, models.SectionMine, "mine")
}

func (a *App) showList(c echo.Context, section, view string) error {
	q, err := listQuery(c, section)
	if err != nil {
		return err
	}
	rows, err := models.ListInbox(ctxOf(c), a.db, q)
	if err != nil {
		return err
	}
	l, rows := listState(q, rows, "")
	if l.Waiting, err = models.DeskWaiting(ctxOf(c), a.db); err != nil {
		return err
	}
	if l.SLA, err = models.LoadSLAPolicy(ctxOf(c), a.db); err != nil {
		return err
	}
	l.Now = time.Now()
	liveView(c, l.StreamParams(view))
	return a.render(c, http.StatusOK, views.InboxPage(l, rows))
}
