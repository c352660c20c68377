package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// deskPageSize is how many conversations a list page shows.
const deskPageSize = 50

// listQuery reads a list's tab, filter and page from the query string.
// Unknown tabs and filters fall back to the defaults; a cursor that was not
// made by an "Older" link is a bad request.
func listQuery(c echo.Context, section string) (models.InboxQuery, error) {
	q := models.InboxQuery{Viewer: currentUser(c), Section: section, Status: models.StatusOpen, Filter: models.FilterAll, Limit: deskPageSize + 1}
	if c.QueryParam("status") == models.StatusClosed {
		q.Status = models.StatusClosed
	}
	if section == models.SectionCustomers {
		switch f := c.QueryParam("filter"); f {
		case models.FilterUnassigned, models.FilterMine:
			q.Filter = f
		}
	}
	before, err := models.ParseInboxCursor(c.QueryParam("before"))
	if err != nil {
		return q, echo.ErrBadRequest
	}
	q.Before = before
	return q, nil
}

// listState pages rows: one row more than a page means there is an older
// page, which starts after the last row shown.
func listState(q models.InboxQuery, rows []models.InboxRow, current string) (views.ListState, []models.InboxRow) {
	l := views.ListState{Query: q, Current: current}
	if len(rows) > deskPageSize {
		rows = rows[:deskPageSize]
		l.Older = rows[len(rows)-1].Cursor().String()
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
	liveView(c, l.StreamParams(view))
	return a.render(c, http.StatusOK, views.InboxPage(l, rows))
}
