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
	// The rows, the teams with their service levels and the bell's count
	// in one round trip; the waiting colours and the desk's service levels
	// from the instance's copy of the settings, as a conversation's page
	// has them.
	page, err := models.InboxPage(ctxOf(c), a.db, q, deskNavWanted(c))
	if err != nil {
		return err
	}
	settings, err := a.pageSettings(c)
	if err != nil {
		return err
	}
	setDeskNav(c, settings, page.BellCount)
	l, rows := listState(q, page.Rows, "")
	l.Waiting = settings.Waiting()
	l.SLA = models.SLAPolicyWith(settings, page.TeamSLA)
	if l.Customers() {
		l.Teams = page.Teams
	}
	if err := a.teamState(c, &l); err != nil {
		return err
	}
	l.Now = time.Now()
	liveView(c, l.StreamParams(view))
	return a.render(c, http.StatusOK, views.InboxPage(l, rows))
}

// teamState fills in what a customers list shows of teams: the team
// filter's choices and, in My teams, the roster of the viewer's teams.
func (a *App) teamState(c echo.Context, l *views.ListState) error {
	if !l.Customers() {
		return nil
	}
	var err error
	if l.Teams == nil {
		if l.Teams, err = models.TeamOptions(ctxOf(c), a.db); err != nil {
			return err
		}
	}
	if l.Query.Filter == models.FilterTeams {
		if l.Roster, err = models.MyTeamMates(ctxOf(c), a.db, currentUser(c)); err != nil {
			return err
		}
		if l.Roster == nil {
			l.Roster = []models.TeamMate{} // shown, saying there are no teams
		}
	}
	return nil
}
