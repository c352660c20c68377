package views

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
)

// SessionReportPage is what the Sessions report shows: the filters as
// asked (even when they could not run), the page of sessions, the chart of
// sessions per day, the filter choices and the problem with the filters,
// if any (shown beside them, nothing else).
type SessionReportPage struct {
	Query   models.SessionReportQuery
	Page    *models.SessionReportPage
	Chart   *models.SessionChart
	Options *models.ReportFilterOptions
	Form    Form
	Now     time.Time
}

// reportDateValue is a date filter as the page shows it: as parsed, or as
// typed when it could not be read.
func reportDateValue(p SessionReportPage, name string) string {
	if p.Form.HasError(name) {
		return p.Form.Get(name)
	}
	if name == "from" {
		return dateValue(p.Query.From)
	}
	return dateValue(p.Query.To)
}

// sessionReportURL is the report page for q (models.SessionReportQuery.Values).
func sessionReportURL(q models.SessionReportQuery) templ.SafeURL {
	if v := q.Values(); len(v) > 0 {
		return templ.SafeURL("/reports/sessions?" + v.Encode())
	}
	return "/reports/sessions"
}

// SessionReportCSVURL is the export of q's rows (every page).
func SessionReportCSVURL(q models.SessionReportQuery) templ.SafeURL {
	if v := q.WithoutPage().Values(); len(v) > 0 {
		return templ.SafeURL("/reports/sessions.csv?" + v.Encode())
	}
	return "/reports/sessions.csv"
}

func (p SessionReportPage) olderURL() templ.SafeURL {
	q := p.Query
	q.Before = p.Page.Next
	return sessionReportURL(q)
}

// dayURL is the report filtered to one day of the chart.
func (p SessionReportPage) dayURL(d time.Time) string {
	q := p.Query.WithoutPage()
	q.From, q.To = &d, &d
	return "/reports/sessions?" + url.Values(q.Values()).Encode()
}

// reportChannelIDs and sessionStateIDs name channels and session states
// (whole message ids, so the locale tests see them used).
var (
	reportChannelIDs = map[string]string{
		models.ChannelWidget: "sessrep.channel_widget", models.ChannelKey: "sessrep.channel_key", models.ChannelLink: "sessrep.channel_link",
	}
	sessionStateIDs = map[string]string{
		"waiting": "sessrep.state_waiting", "expired": "sessrep.state_expired", "ongoing": "sessrep.state_ongoing", "ended": "sessrep.state_ended",
	}
)

// reportChannelText names a channel.
func reportChannelText(ctx context.Context, ch string) string {
	if id, ok := reportChannelIDs[ch]; ok {
		return T(ctx, id)
	}
	return ch
}

// durationText says how long a session lasted, or why it has no duration.
func durationText(ctx context.Context, r *models.SessionRow, now time.Time) string {
	d, ok := r.Duration()
	if !ok {
		return T(ctx, sessionStateIDs[r.State(now)])
	}
	return DurationText(ctx, d)
}

// DurationText writes d in hours and minutes, or seconds under a minute.
func DurationText(ctx context.Context, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return T(ctx, "sessrep.duration_s", map[string]any{"S": int(d.Seconds())})
	case d < time.Hour:
		return T(ctx, "sessrep.duration_m", map[string]any{"M": int(d.Minutes())})
	}
	return T(ctx, "sessrep.duration_hm", map[string]any{"H": int(d.Hours()), "M": fmt.Sprintf("%02d", int(d.Minutes())%60)})
}

// chart is the sessions-per-day chart as BarChart draws it: each bar a
// link to that day's sessions.
func (p SessionReportPage) chart(ctx context.Context) Chart {
	ch := p.Chart
	c := Chart{
		ID: "report-chart",
		Title: T(ctx, "sessrep.chart_title", map[string]any{"Total": ch.Total, "First": isoDay(ch.Days[0].Day),
			"Last": isoDay(ch.Days[len(ch.Days)-1].Day)}),
		Desc:    T(ctx, "sessrep.chart_desc", map[string]any{"Total": ch.Total, "Max": ch.Max}),
		Max:     float64(max(ch.Max, 1)),
		MaxText: strconv.Itoa(ch.Max),
	}
	if ch.Clipped {
		c.Note, c.NoteID = T(ctx, "sessrep.chart_clipped", map[string]any{"Days": models.MaxReportChartDays}), "report-chart-clipped"
	}
	for _, d := range ch.Days {
		c.Bars = append(c.Bars, ChartBar{
			Value: float64(d.Count),
			Label: chartDay(d.Day),
			Title: T(ctx, "sessrep.chart_bar", map[string]any{"Day": isoDay(d.Day), "Count": d.Count}),
			Href:  p.dayURL(d.Day),
			Attrs: templ.Attributes{"data-day": isoDay(d.Day), "data-count": strconv.Itoa(d.Count)},
		})
	}
	return c
}

func chartDay(d time.Time) string { return d.Format("01-02") }
func isoDay(d time.Time) string   { return d.Format("2006-01-02") }
