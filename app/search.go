package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// searchPageSize is how many results a search page shows.
const searchPageSize = 20

// search is the search page (GET /search, the header's box): the query
// parsed by models.ParseSearchQuery, run by models.Search for the current
// user. A query that cannot run (too long, unknown filter or value, a
// forged cursor) is the page with the reason, as a 422 (htmx swaps it).
func (a *App) search(c echo.Context) error {
	u := currentUser(c)
	q, err := models.ParseSearchQuery(c.QueryParams())
	q.Viewer, q.Limit = u, searchPageSize
	p := views.SearchPage{Query: q}
	var se *models.SearchError
	switch {
	case errors.As(err, &se):
		p.Error = se
	case err != nil:
		return err
	}
	if q.Kind == models.SearchKindCustomers && !models.CanSeeCustomerData(u) {
		// The tab does not exist for them.
		p.Query.Kind, q.Kind = models.SearchKindConversations, models.SearchKindConversations
	}
	p.AssigneeKind = models.ItemTask
	if models.CanSeeCustomerData(u) {
		p.AssigneeKind = models.ItemTicket
	}
	if p.Teams, err = models.TeamOptions(ctxOf(c), a.db); err != nil {
		return err
	}
	if p.Assignees, err = a.chosenPerson(c, p.Query.Assignee); err != nil {
		return err
	}
	if p.Error != nil {
		return a.render(c, http.StatusUnprocessableEntity, views.SearchResults(p))
	}
	if p.Result, err = models.Search(ctxOf(c), a.db, q); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.SearchResults(p))
}
