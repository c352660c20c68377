package app

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The Sessions report (issue 13 item 6): for admins and the agents an
// admin lets read reports (models.CanViewReports; everyone else gets 403
// like the admin area). Filters are a GET form encoded and parsed only by
// models.SessionReportQuery; filters that cannot run (a bad date, an
// unknown agent or team, a forged cursor) are the page with the reason
// beside the filter, as a 422, and nothing is queried.

// requireReports lets through the users who may read reports.
func (a *App) requireReports(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !models.CanViewReports(currentUser(c)) {
			return errForbidden
		}
		return next(c)
	}
}

// reportQuery reads and checks the report's filters; a problem is a
// *models.ValidationError, with the query as far as it could be read.
func (a *App) reportQuery(c echo.Context) (models.SessionReportQuery, map[string]string, error) {
	q, err := models.ParseSessionReportQuery(c.QueryParams())
	typed := map[string]string{}
	for _, k := range []string{"from", "to", "agent", "team", "channel"} {
		typed[k] = c.QueryParam(k)
	}
	if err != nil {
		return q, typed, err
	}
	return q, typed, models.CheckSessionReportFilters(ctxOf(c), a.db, q)
}

// sessionReport is GET /reports/sessions: the filters, the chart of
// sessions per day and a page of sessions.
func (a *App) sessionReport(c echo.Context) error {
	ctx, u := ctxOf(c), currentUser(c)
	q, typed, qerr := a.reportQuery(c)
	if qerr != nil && !isValidation(qerr) {
		return qerr
	}
	p := views.SessionReportPage{Query: q, Now: time.Now()}
	var err error
	if p.Options, err = models.LoadReportFilterOptions(ctx, a.db); err != nil {
		return err
	}
	if qerr != nil {
		p.Form = views.NewForm(typed, qerr)
		return a.render(c, http.StatusUnprocessableEntity, views.SessionReport(p))
	}
	if p.Chart, err = models.SessionTotalsPerDay(ctx, a.db, u, q, p.Now); err != nil {
		return err
	}
	if p.Page, err = models.ListSessionReport(ctx, a.db, u, q, models.SessionReportLimit); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.SessionReport(p))
}

// reportCSVColumns are the export's columns: stable names for the tools
// that read it, not translated.
var reportCSVColumns = []string{"date", "session", "channel", "key", "agent", "team", "customer",
	"started_at", "ended_at", "duration_seconds", "state", "chat_log"}

// sessionReportCSV is GET /reports/sessions.csv: every session the filters
// select (not just a page), newest first, written while it is read
// (models.EachSessionReportRow), so an export of any size holds one batch
// in memory. Filters that cannot run are a 422 page before anything is
// sent.
func (a *App) sessionReportCSV(c echo.Context) error {
	ctx, u := ctxOf(c), currentUser(c)
	q, typed, err := a.reportQuery(c)
	if isValidation(err) {
		p := views.SessionReportPage{Query: q, Now: time.Now(), Form: views.NewForm(typed, err)}
		err = nil
		if p.Options, err = models.LoadReportFilterOptions(ctx, a.db); err != nil {
			return err
		}
		return a.render(c, http.StatusUnprocessableEntity, views.SessionReport(p))
	}
	if err != nil {
		return err
	}
	now := time.Now()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="sessions-`+now.UTC().Format("20060102-1504")+`.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	if err := w.Write(reportCSVColumns); err != nil {
		return nil // the client left
	}
	base := strings.TrimRight(a.cfg.BaseURL.String(), "/")
	customers := models.CanSeeCustomerData(u)
	rows := 0
	err = models.EachSessionReportRow(ctx, a.db, u, q, 500, func(r *models.SessionRow) error {
		rec := []string{
			r.CreatedAt.UTC().Format(time.RFC3339), "#" + strconv.FormatInt(r.ID, 10), r.Channel, r.Key,
			r.AgentName, r.TeamName, "", csvTime(r.Start()), csvTime(r.End()), "", r.State(now), "",
		}
		if customers {
			rec[6] = r.CustomerName
			if rec[6] == "" {
				rec[6] = r.CustomerEmail
			}
			rec[11] = base + "/conversations/" + r.PublicID + "/transcript"
		}
		if d, ok := r.Duration(); ok {
			rec[9] = strconv.FormatInt(int64(d.Round(time.Second)/time.Second), 10)
		}
		if err := w.Write(CSVSafe(rec)); err != nil {
			return err
		}
		if rows++; rows%500 == 0 {
			w.Flush()
			c.Response().Flush()
		}
		return w.Error()
	})
	w.Flush()
	if err != nil {
		// The status line has gone: all that can be done is to log it and
		// cut the file short.
		reqLog(c).Warn("session report export", "err", err, "rows", rows)
	}
	return nil
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// CSVSafe neutralises spreadsheet formulas in rec (CSV injection): a cell
// that starts with = + - @, a tab or a carriage return is prefixed with a
// single quote, so a spreadsheet shows it as text instead of running it.
// It changes rec in place and returns it.
func CSVSafe(rec []string) []string {
	for i, s := range rec {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			rec[i] = "'" + s
		}
	}
	return rec
}
