package views

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
)

// slaSoonShare: a clock with less than this share of its target left shows
// as "soon" (amber) before it breaches (red).
const slaSoonShare = 4

// slaLevel is the state of a running clock at now: ok, soon or over.
func slaLevel(c models.SLAClock, now time.Time) string {
	left := c.Left(now)
	switch {
	case left <= 0:
		return "over"
	case left <= c.Limit/slaSoonShare:
		return "soon"
	}
	return "ok"
}

// slaClock is conv's running clock under l's policy (false: none shown).
func slaClock(conv *models.Conversation, p models.SLAPolicy) (models.SLAClock, bool) {
	return p.Clock(conv)
}

// slaLabels are the two texts of a clock, before and after it is due;
// desk.js switches between them as time passes.
func slaLabels(ctx context.Context, c models.SLAClock) (due, over string) {
	if c.Target == models.SLANext {
		return T(ctx, "sla.next_due"), T(ctx, "sla.next_over")
	}
	return T(ctx, "sla.first_due"), T(ctx, "sla.first_over")
}

func slaLabel(ctx context.Context, c models.SLAClock, now time.Time) string {
	due, over := slaLabels(ctx, c)
	if c.Breached(now) {
		return over
	}
	return due
}

// slaAttrs are what desk.js updates a clock by: when it is due, and when it
// turns "soon" (seconds before due).
func slaAttrs(ctx context.Context, c models.SLAClock) templ.Attributes {
	due, over := slaLabels(ctx, c)
	return templ.Attributes{
		"data-sla-due":   isoTime(c.Due),
		"data-sla-soon":  strconv.FormatInt(int64(c.Limit/slaSoonShare/time.Second), 10),
		"data-sla-label": due,
		"data-sla-over":  over,
	}
}

// shortDuration is d in the desk's short units ("< 1 min", "5 min", "3 h").
func shortDuration(ctx context.Context, d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return T(ctx, "desk.ago_now")
	case d < time.Hour:
		return T(ctx, "desk.ago_minutes", map[string]any{"Count": int(d.Minutes())})
	case d < 48*time.Hour:
		return T(ctx, "desk.ago_hours", map[string]any{"Count": int(d.Hours())})
	}
	return T(ctx, "desk.ago_days", map[string]any{"Count": int(d.Hours() / 24)})
}

// AdminServiceLevels is the service-level admin page.
type AdminServiceLevels struct {
	Rows  []models.SLATargetRow
	Teams []models.Team
	Form  Form
}

// ReportsPage's data: the report, or the refused filter.
type ReportsData struct {
	Report *models.Report
	Teams  []models.Team
	Form   Form
}

// newChart lays out one bar per day of r with value(day) (text: how the
// value reads).
func newChart(ctx context.Context, id, title string, r *models.Report, value func(d *models.SLAReportDay) float64, text func(v float64) string) Chart {
	c := Chart{ID: id, Title: title, EmptyText: T(ctx, "sla.chart_empty")}
	for i := range r.Days {
		c.Max = math.Max(c.Max, value(&r.Days[i]))
	}
	c.Empty = c.Max == 0
	if c.Empty {
		c.Max = 1
	}
	c.Max = niceCeil(c.Max)
	c.MaxText = text(c.Max)
	for i := range r.Days {
		d := &r.Days[i]
		v := value(d)
		c.Bars = append(c.Bars, ChartBar{Value: v, Label: d.Day.Format("01-02"), Title: d.Day.Format("2006-01-02") + ": " + text(v)})
	}
	return c
}

// reportCharts are the report page's charts, in order.
func reportCharts(ctx context.Context, r *models.Report) []Chart {
	count := func(v float64) string { return strconv.Itoa(int(v)) }
	mins := func(v float64) string { return T(ctx, "sla.minutes_value", map[string]any{"Count": f1(v)}) }
	hours := func(v float64) string { return T(ctx, "sla.hours_value", map[string]any{"Count": f1(v)}) }
	return []Chart{
		newChart(ctx, "chart-volume", T(ctx, "sla.chart_volume"), r, func(d *models.SLAReportDay) float64 { return float64(d.Volume) }, count),
		newChart(ctx, "chart-first", T(ctx, "sla.chart_first"), r, func(d *models.SLAReportDay) float64 { return d.FirstMedian.Minutes() }, mins),
		newChart(ctx, "chart-resolution", T(ctx, "sla.chart_resolution"), r, func(d *models.SLAReportDay) float64 { return d.ResolveMedian.Hours() }, hours),
		newChart(ctx, "chart-breaches", T(ctx, "sla.chart_breaches"), r, func(d *models.SLAReportDay) float64 { return float64(d.Breaches) }, count),
	}
}

// medianText is a median duration, or a dash when nothing was measured.
func medianText(ctx context.Context, n int, d time.Duration) string {
	if n == 0 {
		return "–"
	}
	if d < time.Hour {
		return T(ctx, "sla.minutes_value", map[string]any{"Count": f1(d.Minutes())})
	}
	return T(ctx, "sla.hours_value", map[string]any{"Count": f1(d.Hours())})
}

func reportTeamName(ctx context.Context, t models.ReportTeam) string {
	if t.TeamID == 0 {
		return T(ctx, "sla.no_team")
	}
	return t.Name
}

// targetText is a target as the admin table shows it: minutes, or "none"
// (for the desk) / "the desk's" (for a team without its own).
func targetText(ctx context.Context, team int64, p *int) string {
	switch {
	case p != nil:
		return T(ctx, "sla.minutes_value", map[string]any{"Count": strconv.Itoa(*p)})
	case team == 0:
		return T(ctx, "sla.no_target")
	}
	return T(ctx, "sla.inherits")
}

// commentAuthor heads a comment in an item's history.
func commentAuthor(ctx context.Context, a *models.ItemActivity) string {
	by := a.ActorName
	if by == "" {
		by = T(ctx, "desk.former_agent")
	}
	return T(ctx, "comments.activity", map[string]any{"By": by})
}
