package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showServiceLevels is Admin → Service levels: the desk's and each team's
// first- and next-response targets.
func (a *App) showServiceLevels(c echo.Context) error {
	return a.renderServiceLevels(c, http.StatusOK, views.NewForm(nil, nil))
}

func (a *App) renderServiceLevels(c echo.Context, status int, f views.Form) error {
	rows, err := models.ListSLATargets(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	teams, err := models.ListTeams(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	return a.render(c, status, views.AdminServiceLevelsPage(views.AdminServiceLevels{Rows: rows, Teams: teams, Form: f}))
}

// saveServiceLevels stores one team's (or the desk's) targets; an unknown
// team or a target that is not a whole number of minutes from 1 is a 422
// beside the field, and nothing is stored.
func (a *App) saveServiceLevels(c echo.Context) error {
	in := models.SLAInput{Team: c.FormValue("team"), First: c.FormValue("sla_first"), Next: c.FormValue("sla_next")}
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetSLATargets(ctxOf(c), tx, currentUser(c), in)
	})
	if isValidation(err) {
		return a.renderServiceLevels(c, http.StatusUnprocessableEntity,
			views.NewForm(map[string]string{"team": in.Team, "sla_first": in.First, "sla_next": in.Next}, err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "sla.saved"))
	return a.redirect(c, "/admin/service-levels")
}
