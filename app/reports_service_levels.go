package app

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showReports is the service-level report (models.CanViewReports: admins
// and the agents an admin allowed): volume, first-response and resolution times and service-level
// breaches per day and per team, over a date range. A refused filter is a
// 422 with the reason beside the field and no report.
func (a *App) showReports(c echo.Context) error {
	ctx := ctxOf(c)
	teams, err := models.ListTeams(ctx, a.db)
	if err != nil {
		return err
	}
	q, err := models.ParseReportQuery(ctx, a.db, c.QueryParams(), time.Now())
	if isValidation(err) {
		values := map[string]string{"from": c.QueryParam("from"), "to": c.QueryParam("to"), "team": c.QueryParam("team")}
		return a.render(c, http.StatusUnprocessableEntity, views.ReportsPage(views.ReportsData{Teams: teams, Form: views.NewForm(values, err)}))
	}
	if err != nil {
		return err
	}
	r, err := models.LoadReport(ctx, a.db, q)
	if err != nil {
		return err
	}
	values := map[string]string{}
	for k := range q.Values() {
		values[k] = q.Values().Get(k)
	}
	return a.render(c, http.StatusOK, views.ReportsPage(views.ReportsData{Report: r, Teams: teams, Form: views.NewForm(values, nil)}))
}
