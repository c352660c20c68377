package app

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showRouting lists the routing rules (admins).
func (a *App) showRouting(c echo.Context) error {
	return a.renderRouting(c, http.StatusOK, views.NewForm(nil, nil))
}

func (a *App) renderRouting(c echo.Context, status int, f views.Form) error {
	rules, err := models.ListRoutingRules(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	teams, err := models.TeamOptions(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	return a.render(c, status, views.RoutingPage(rules, teams, f))
}

// createRoutingRule adds a rule at the end. A rule that can never match or
// names no team is a 422 with the reason beside the field; nothing stored.
func (a *App) createRoutingRule(c echo.Context) error {
	values := map[string]string{"team_id": c.FormValue("team_id"), "url_match": c.FormValue("url_match"),
		"url_value": c.FormValue("url_value"), "language": c.FormValue("language")}
	team, _ := strconv.ParseInt(values["team_id"], 10, 64)
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.CreateRoutingRule(ctxOf(c), tx, currentUser(c), models.RoutingRuleInput{
			TeamID: team, URLMatch: values["url_match"], URLValue: values["url_value"], Language: values["language"]})
		return err
	})
	if isValidation(err) {
		return a.renderRouting(c, http.StatusUnprocessableEntity, views.NewForm(values, err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.routing_added"))
	return a.redirect(c, "/admin/routing")
}

// deleteRoutingRule removes a rule.
func (a *App) deleteRoutingRule(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.DeleteRoutingRule(ctxOf(c), tx, currentUser(c), id)
	}); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.routing_deleted"))
	return a.redirect(c, "/admin/routing")
}

// moveRoutingRule moves a rule up or down (dir); a move that would make a
// rule unreachable is a 422 saying which.
func (a *App) moveRoutingRule(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.MoveRoutingRule(ctxOf(c), tx, currentUser(c), id, c.FormValue("dir") == "up")
	})
	if isValidation(err) {
		return a.renderRouting(c, http.StatusUnprocessableEntity, views.NewForm(nil, err))
	}
	if err != nil {
		return err
	}
	return a.redirect(c, "/admin/routing")
}
