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

// Chart geometry (SVG user units).
const (
	chartHeight = 120
	chartTop    = 14
	chartBottom = 18
	chartLeft   = 28
	chartBar    = 14
)

func (p SessionReportPage) chartWidth() int { return chartLeft + len(p.Chart.Days)*chartBar + 4 }

func (p SessionReportPage) chartViewBox() string {
	return fmt.Sprintf("0 0 %d %d", p.chartWidth(), chartTop+chartHeight+chartBottom)
}

// barHeight is day's bar in user units (at least 1 for a non-zero day).
func (p SessionReportPage) barHeight(n int) int {
	if p.Chart.Max == 0 || n == 0 {
		return 0
	}
	return max(1, n*chartHeight/p.Chart.Max)
}

func (p SessionReportPage) barX(i int) string { return strconv.Itoa(chartLeft + i*chartBar + 1) }
func (p SessionReportPage) barY(n int) string {
	return strconv.Itoa(chartTop + chartHeight - p.barHeight(n))
}
func itoa(n int) string { return strconv.Itoa(n) }

// chartLabelEvery spaces the date labels under the bars.
func (p SessionReportPage) chartLabelEvery() int {
	return max(1, (len(p.Chart.Days)+6)/7)
}

func chartDay(d time.Time) string { return d.Format("01-02") }
func isoDay(d time.Time) string   { return d.Format("2006-01-02") }
