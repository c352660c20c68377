package models

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The Sessions report (issue 13 item 6): customer conversations of the
// widget, key and link channels, newest first, with who handled them, how
// long they lasted and how many started per day.
//
// A session is a customer conversation: a support session (key or link)
// starts when the customer joins it and ends when an agent ends it; a
// widget chat starts when the customer writes and ends when the
// conversation is closed. Days are UTC days, as in search.

// ReportChannels are the channels the report lists, in the filter's order.
var ReportChannels = []string{ChannelWidget, ChannelKey, ChannelLink}

// ChannelWidget is a conversation a customer started in the widget.
const ChannelWidget = "widget"

// SessionReportLimit is the number of rows on one page of the report.
const SessionReportLimit = 50

// MaxReportChartDays caps the days one chart shows.
const MaxReportChartDays = 92

// DefaultReportChartDays is the chart's span when no date range is given.
const DefaultReportChartDays = 30

const reportDate = "2006-01-02"

// SessionReportQuery is the report as the page asks it: the filters and the
// page. Values and ParseSessionReportQuery are its only encoding.
type SessionReportQuery struct {
	// From and To are UTC dates, inclusive.
	From, To *time.Time
	Agent    int64 // conversations.assignee_id
	Team     int64 // conversations.team_id
	Channel  string
	// Before is the page's cursor: the last row shown (created_at, id).
	Before *InboxCursor
}

var reportKeys = map[string]bool{"from": true, "to": true, "agent": true, "team": true, "channel": true, "before": true}

// Values encodes q for links (the next page, the CSV export, the chart's
// days); WithoutPage drops the cursor.
func (q SessionReportQuery) Values() url.Values {
	v := url.Values{}
	if q.From != nil {
		v.Set("from", q.From.Format(reportDate))
	}
	if q.To != nil {
		v.Set("to", q.To.Format(reportDate))
	}
	if q.Agent > 0 {
		v.Set("agent", strconv.FormatInt(q.Agent, 10))
	}
	if q.Team > 0 {
		v.Set("team", strconv.FormatInt(q.Team, 10))
	}
	if q.Channel != "" {
		v.Set("channel", q.Channel)
	}
	if q.Before != nil {
		v.Set("before", q.Before.String())
	}
	return v
}

// WithoutPage is q on its first page.
func (q SessionReportQuery) WithoutPage() SessionReportQuery {
	q.Before = nil
	return q
}

// ParseSessionReportQuery reads what Values wrote. Problems are a
// *ValidationError on the field concerned (unknown parameters on
// "report"), with q holding what could be read, so the page can show the
// filters as typed; empty values are no filter.
func ParseSessionReportQuery(v url.Values) (SessionReportQuery, error) {
	var q SessionReportQuery
	verr := &ValidationError{}
	get := func(k string) string {
		if len(v[k]) == 0 {
			return ""
		}
		return strings.TrimSpace(v[k][0])
	}
	for k := range v {
		if !reportKeys[k] {
			verr.Add("report", "report_unknown_param", map[string]any{"Name": clip(k, 40)})
			break
		}
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := get(d.name); s != "" {
			t, err := time.Parse(reportDate, s)
			if err != nil || t.Year() < 2000 || t.Year() > 9999 {
				verr.Add(d.name, "report_bad_date", map[string]any{"Value": clip(s, 40)})
				continue
			}
			*d.dst = &t
		}
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		verr.Add("to", "report_dates_order", nil)
	}
	for _, f := range []struct {
		name, code string
		dst        *int64
	}{{"agent", "report_unknown_agent", &q.Agent}, {"team", "report_unknown_team", &q.Team}} {
		if s := get(f.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				verr.Add(f.name, f.code, nil)
				continue
			}
			*f.dst = n
		}
	}
	switch ch := get("channel"); ch {
	case "":
	case ChannelWidget, ChannelKey, ChannelLink:
		q.Channel = ch
	default:
		verr.Add("channel", "report_bad_channel", nil)
	}
	before, err := ParseInboxCursor(get("before"))
	if err != nil {
		verr.Add("report", "report_bad_cursor", nil)
	}
	q.Before = before
	return q, verr.Err()
}

// CheckSessionReportFilters reports an agent or team filter that names no
// user or team (a *ValidationError beside the filter): a report filtered by
// nobody would look empty rather than wrong.
func CheckSessionReportFilters(ctx context.Context, db *gorm.DB, q SessionReportQuery) error {
	verr := &ValidationError{}
	db = db.WithContext(ctx)
	if q.Agent > 0 {
		var n int64
		if err := db.Model(&User{}).Where("id = ?", q.Agent).Count(&n).Error; err != nil {
			return fmt.Errorf("session report agent: %w", err)
		}
		if n == 0 {
			verr.Add("agent", "report_unknown_agent", nil)
		}
	}
	if q.Team > 0 {
		var n int64
		if err := db.Model(&Team{}).Where("id = ?", q.Team).Count(&n).Error; err != nil {
			return fmt.Errorf("session report team: %w", err)
		}
		if n == 0 {
			verr.Add("team", "report_unknown_team", nil)
		}
	}
	return verr.Err()
}

// SessionRow is one session of the report.
type SessionRow struct {
	ID            int64
	PublicID      string
	Channel       string
	Status        string
	CreatedAt     time.Time
	ClosedAt      *time.Time
	AgentID       *int64
	AgentName     string
	TeamID        *int64
	TeamName      string
	CustomerID    int64
	CustomerName  string
	CustomerEmail string
	// Support sessions only.
	Key       string
	JoinedAt  *time.Time
	EndedAt   *time.Time
	ExpiresAt *time.Time
}

// Cursor is the keyset position just after r.
func (r *SessionRow) Cursor() InboxCursor { return InboxCursor{At: r.CreatedAt, ID: r.ID} }

// IsSupportSession reports whether r was started with a support key.
func (r *SessionRow) IsSupportSession() bool { return r.ExpiresAt != nil }

// Start is when the session began: a support session when the customer
// joined (nil while nobody has), a widget chat when it was started.
func (r *SessionRow) Start() *time.Time {
	if r.IsSupportSession() {
		return r.JoinedAt
	}
	return &r.CreatedAt
}

// End is when the session ended: ended by an agent, else closed; nil while
// it goes on.
func (r *SessionRow) End() *time.Time {
	if r.EndedAt != nil {
		return r.EndedAt
	}
	return r.ClosedAt
}

// Duration is how long the session lasted; ok is false if it has not
// started or not ended.
func (r *SessionRow) Duration() (d time.Duration, ok bool) {
	start, end := r.Start(), r.End()
	if start == nil || end == nil || end.Before(*start) {
		return 0, false
	}
	return end.Sub(*start), true
}

// State names where the session stands: "waiting" (a key nobody used yet,
// still valid), "expired" (unused, expired, never ended), "ongoing",
// "ended".
func (r *SessionRow) State(now time.Time) string {
	switch {
	case r.End() != nil:
		return "ended"
	case r.IsSupportSession() && r.JoinedAt == nil && !now.Before(*r.ExpiresAt):
		return "expired"
	case r.IsSupportSession() && r.JoinedAt == nil:
		return "waiting"
	}
	return "ongoing"
}

// reportWhere is the report's condition for q (without its cursor) on
// conversations c, and its named arguments.
func reportWhere(q SessionReportQuery) (string, map[string]any) {
	w := "c.kind = 'customer' AND c.channel IN ('widget', 'key', 'link')"
	args := map[string]any{}
	if q.Channel != "" {
		w += " AND c.channel = @channel"
		args["channel"] = q.Channel
	}
	if q.Agent > 0 {
		w += " AND c.assignee_id = @agent"
		args["agent"] = q.Agent
	}
	if q.Team > 0 {
		w += " AND c.team_id = @team"
		args["team"] = q.Team
	}
	if q.From != nil {
		w += " AND c.created_at >= @from"
		args["from"] = *q.From
	}
	if q.To != nil {
		w += " AND c.created_at < @to"
		args["to"] = q.To.AddDate(0, 0, 1)
	}
	return w, args
}

const reportSelect = `
SELECT c.id, c.public_id::text AS public_id, c.channel, c.status, c.created_at, c.closed_at,
       c.assignee_id AS agent_id, COALESCE(u.name, '') AS agent_name,
       c.team_id, COALESCE(t.name, '') AS team_name, c.customer_id, COALESCE(cu.name, '') AS customer_name, COALESCE(cu.email, '') AS customer_email,
       COALESCE(s.key, '') AS key, s.joined_at, s.ended_at, s.expires_at
FROM conversations c
LEFT JOIN support_sessions s ON s.conversation_id = c.id
LEFT JOIN users u ON u.id = c.assignee_id
LEFT JOIN teams t ON t.id = c.team_id
LEFT JOIN customers cu ON cu.id = c.customer_id
WHERE `

// SessionReportPage is one page of the report.
type SessionReportPage struct {
	Rows []SessionRow
	// Next is the cursor of the next (older) page, nil on the last.
	Next *InboxCursor
}

// ListSessionReport returns one page of the report for viewer, newest
// first (keyset on created_at, id). Viewers CanViewReports refuses get
// ErrNotFound.
func ListSessionReport(ctx context.Context, db *gorm.DB, viewer *User, q SessionReportQuery, limit int) (*SessionReportPage, error) {
	if !CanViewReports(viewer) {
		return nil, ErrNotFound
	}
	if limit <= 0 {
		limit = SessionReportLimit
	}
	rows, err := sessionReportRows(ctx, db, q, limit+1)
	if err != nil {
		return nil, err
	}
	p := &SessionReportPage{Rows: rows}
	if len(rows) > limit {
		p.Rows = rows[:limit]
		c := p.Rows[limit-1].Cursor()
		p.Next = &c
	}
	return p, nil
}

func sessionReportRows(ctx context.Context, db *gorm.DB, q SessionReportQuery, limit int) ([]SessionRow, error) {
	w, args := reportWhere(q)
	if q.Before != nil {
		w += " AND (c.created_at, c.id) < (@before_at, @before_id)"
		args["before_at"], args["before_id"] = q.Before.At, q.Before.ID
	}
	args["limit"] = limit
	var rows []SessionRow
	err := db.WithContext(ctx).Raw(reportSelect+w+" ORDER BY c.created_at DESC, c.id DESC LIMIT @limit", args).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("session report: %w", err)
	}
	return rows, nil
}

// EachSessionReportRow calls fn for every row of the report for viewer
// (all pages, newest first), reading batch rows at a time so an export
// of any size streams in constant memory. Viewers CanViewReports refuses
// get ErrNotFound; an error from fn stops it.
func EachSessionReportRow(ctx context.Context, db *gorm.DB, viewer *User, q SessionReportQuery, batch int, fn func(*SessionRow) error) error {
	if !CanViewReports(viewer) {
		return ErrNotFound
	}
	if batch <= 0 {
		batch = 500
	}
	q.Before = nil
	for {
		rows, err := sessionReportRows(ctx, db, q, batch)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := fn(&rows[i]); err != nil {
				return err
			}
		}
		if len(rows) < batch {
			return nil
		}
		c := rows[len(rows)-1].Cursor()
		q.Before = &c
	}
}

// ReportDay is one day of the chart: how many sessions started that day.
type ReportDay struct {
	Day   time.Time // midnight UTC
	Count int
}

// SessionChart is the number of sessions per day over the chart's span:
// every day from First to Last, zeros included.
type SessionChart struct {
	Days []ReportDay
	Max  int
	// Total is the sum over the days shown.
	Total int
	// Clipped: the range asked for was longer than MaxReportChartDays; the
	// chart shows its last days.
	Clipped bool
}

// ReportChartSpan is the days the chart of q covers at now: the filter's
// range, else the DefaultReportChartDays up to today (or up to To), at
// most MaxReportChartDays (the last ones).
func ReportChartSpan(q SessionReportQuery, now time.Time) (first, last time.Time, clipped bool) {
	today := now.UTC().Truncate(24 * time.Hour)
	last = today
	if q.To != nil {
		last = *q.To
	}
	first = last.AddDate(0, 0, -(DefaultReportChartDays - 1))
	if q.From != nil {
		first = *q.From
	}
	if q.To == nil && q.From != nil && first.After(today) {
		last = first
	}
	if days := int(last.Sub(first).Hours()/24) + 1; days > MaxReportChartDays {
		first, clipped = last.AddDate(0, 0, -(MaxReportChartDays-1)), true
	}
	return first, last, clipped
}

// SessionTotalsPerDay counts the report's sessions per UTC day over
// ReportChartSpan(q, now), for viewer (ErrNotFound unless CanViewReports).
func SessionTotalsPerDay(ctx context.Context, db *gorm.DB, viewer *User, q SessionReportQuery, now time.Time) (*SessionChart, error) {
	if !CanViewReports(viewer) {
		return nil, ErrNotFound
	}
	first, last, clipped := ReportChartSpan(q, now)
	q.From, q.To = &first, &last
	w, args := reportWhere(q)
	var counts []struct {
		Day time.Time
		N   int
	}
	err := db.WithContext(ctx).Raw(`
		SELECT (date_trunc('day', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS day, count(*) AS n
		FROM conversations c WHERE `+w+` GROUP BY 1 ORDER BY 1`, args).Scan(&counts).Error
	if err != nil {
		return nil, fmt.Errorf("session totals: %w", err)
	}
	byDay := map[string]int{}
	for _, c := range counts {
		byDay[c.Day.UTC().Format(reportDate)] = c.N
	}
	ch := &SessionChart{Clipped: clipped}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		n := byDay[d.Format(reportDate)]
		ch.Days = append(ch.Days, ReportDay{Day: d, Count: n})
		ch.Max = max(ch.Max, n)
		ch.Total += n
	}
	return ch, nil
}

// ReportFilterOptions are the choices of the report's agent and team
// filters: every staff user (deactivated ones too: they handled sessions)
// and every team.
type ReportFilterOptions struct {
	Agents []User
	Teams  []Team
}

// LoadReportFilterOptions reads the report's filter choices.
func LoadReportFilterOptions(ctx context.Context, db *gorm.DB) (*ReportFilterOptions, error) {
	o := &ReportFilterOptions{}
	var err error
	if o.Agents, err = ListUsers(ctx, db); err != nil {
		return nil, err
	}
	if err := db.WithContext(ctx).Order("lower(name), id").Find(&o.Teams).Error; err != nil {
		return nil, fmt.Errorf("report teams: %w", err)
	}
	return o, nil
}

// SetReportAccess lets the user id read the reports, or stops it (an
// admin's choice on Admin → Agents). Admins read them anyway. It is an
// access event for the user's open desks, like a change of role.
func SetReportAccess(ctx context.Context, t Tx, id int64, on bool) error {
	err := t.run(ctx, func(tx *gorm.DB) error {
		u, err := lockUser(tx, id)
		if err != nil {
			return err
		}
		if u.CanViewReports == on {
			return nil
		}
		if err := tx.Exec("UPDATE users SET can_view_reports = ?, updated_at = now() WHERE id = ?", on, id).Error; err != nil {
			return err
		}
		return appendAccessEvent(t, id, "reports")
	})
	return wrapUnlessDomain(err, "set report access of user %d", id)
}
