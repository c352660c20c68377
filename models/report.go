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

// Reports (admins): per day and per team, how many customer conversations
// began, how long their first answer took, how long those closed that day
// took to close, and how many waits breached their service level. Days are
// UTC days; a conversation counts for the team it has now (volume and
// times) or had when it breached (breaches).

// MaxReportDays bounds a report's range (one year of days).
const MaxReportDays = 366

// DefaultReportDays is the range a report opens with (the last 30 days).
const DefaultReportDays = 30

// ReportQuery is a report's range (From to To, whole UTC days, both
// included) and optional team (0: every conversation; NoTeam: those
// without one).
type ReportQuery struct {
	From time.Time
	To   time.Time
	Team int64
}

// NoTeam selects conversations without a team in a ReportQuery.
const NoTeam = -1

// Values is q's query string (the page's links and form).
func (q ReportQuery) Values() url.Values {
	v := url.Values{}
	v.Set("from", q.From.Format(reportDate))
	v.Set("to", q.To.Format(reportDate))
	switch {
	case q.Team == NoTeam:
		v.Set("team", "none")
	case q.Team > 0:
		v.Set("team", strconv.FormatInt(q.Team, 10))
	}
	return v
}

// Days is the number of days in q's range.
func (q ReportQuery) Days() int { return int(q.To.Sub(q.From)/(24*time.Hour)) + 1 }

// day is t's UTC day.
func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseReportQuery reads a report's parameters: from and to as YYYY-MM-DD
// (default: the DefaultReportDays up to today, as of now), from not after
// to, at most MaxReportDays; team an id of a team that exists, "none", or
// empty. Anything else is a ValidationError on its field.
func ParseReportQuery(ctx context.Context, db *gorm.DB, v url.Values, now time.Time) (ReportQuery, error) {
	today := day(now)
	q := ReportQuery{From: today.AddDate(0, 0, -(DefaultReportDays - 1)), To: today}
	errs := &ValidationError{}
	date := func(field string, into *time.Time) {
		s := strings.TrimSpace(v.Get(field))
		if s == "" {
			return
		}
		t, err := time.Parse(reportDate, s)
		if err != nil {
			errs.Add(field, "report_date", nil)
			return
		}
		*into = t
	}
	date("from", &q.From)
	date("to", &q.To)
	if _, bad := errs.Field("from"); !bad {
		if _, bad := errs.Field("to"); !bad {
			switch {
			case q.To.Before(q.From):
				errs.Add("to", "report_order", nil)
			case q.Days() > MaxReportDays:
				errs.Add("to", "report_too_long", map[string]any{"Max": MaxReportDays})
			}
		}
	}
	switch s := strings.TrimSpace(v.Get("team")); s {
	case "":
	case "none":
		q.Team = NoTeam
	default:
		id, err := strconv.ParseInt(s, 10, 64)
		var found int64
		if err == nil && id > 0 {
			if err := db.WithContext(ctx).Raw("SELECT id FROM teams WHERE id = ?", id).Scan(&found).Error; err != nil {
				return q, fmt.Errorf("report team: %w", err)
			}
		}
		if found == 0 {
			errs.Add("team", "sla_team_unknown", nil)
		}
		q.Team = found
	}
	for k := range v {
		switch k {
		case "from", "to", "team":
		default:
			errs.Add("from", "report_unknown", map[string]any{"Name": k})
		}
	}
	return q, errs.Err()
}

// ReportStats are one day's or one team's figures. Times are medians over
// the conversations that have them (HasFirst, HasResolution say whether
// any did).
type ReportStats struct {
	Volume        int
	Breaches      int
	FirstCount    int
	FirstMedian   time.Duration
	Resolved      int
	ResolveMedian time.Duration
}

// SLAReportDay is one day of a report.
type SLAReportDay struct {
	Day time.Time
	ReportStats
}

// ReportTeam is one team's line of a report (TeamID 0: no team).
type ReportTeam struct {
	TeamID int64
	Name   string
	ReportStats
}

// Report is what the reports page shows.
type Report struct {
	Query ReportQuery
	Days  []SLAReportDay
	Teams []ReportTeam
	Total ReportStats
	// Timings are how long each of the report's queries took (the
	// benchmark prints them).
	Timings map[string]time.Duration
}

// reportRow is one grouping-sets row: a day's (Day set), a team's (ByTeam)
// or the total.
type reportRow struct {
	Day     *time.Time
	TeamID  *int64
	ByTeam  bool
	N       int
	N2      int
	Median  *float64
	Median2 *float64
}

// LoadReport reads q's report in three queries (conversations by day of
// creation, by day of closing, breaches by day due), each one pass over an
// index range grouped by day, by team and in total (GROUPING SETS).
func LoadReport(ctx context.Context, db *gorm.DB, q ReportQuery) (*Report, error) {
	db = db.WithContext(ctx)
	r := &Report{Query: q, Timings: map[string]time.Duration{}}
	byDay := map[time.Time]*ReportStats{}
	for d := q.From; !d.After(q.To); d = d.AddDate(0, 0, 1) {
		r.Days = append(r.Days, SLAReportDay{Day: d})
	}
	for i := range r.Days {
		byDay[r.Days[i].Day] = &r.Days[i].ReportStats
	}
	teams, err := ListTeams(ctx, db)
	if err != nil {
		return nil, err
	}
	byTeam := map[int64]*ReportStats{}
	if q.Team <= 0 {
		r.Teams = append(r.Teams, ReportTeam{})
	}
	for _, t := range teams {
		if q.Team == 0 || q.Team == t.ID {
			r.Teams = append(r.Teams, ReportTeam{TeamID: t.ID, Name: t.Name})
		}
	}
	for i := range r.Teams {
		byTeam[r.Teams[i].TeamID] = &r.Teams[i].ReportStats
	}
	args := map[string]any{"from": q.From, "to": q.To.AddDate(0, 0, 1), "team": q.Team}
	teamCond := func(col string) string {
		return `(CAST(@team AS bigint) = 0 OR (CAST(@team AS bigint) = -1 AND ` + col + ` IS NULL) OR ` + col + ` = @team)`
	}
	grouped := func(name, query string, apply func(s *ReportStats, row reportRow)) error {
		start := time.Now()
		var rows []reportRow
		if err := db.Raw(query, args).Scan(&rows).Error; err != nil {
			return fmt.Errorf("report %s: %w", name, err)
		}
		r.Timings[name] = time.Since(start)
		for _, row := range rows {
			var s *ReportStats
			switch {
			case row.Day != nil:
				s = byDay[day(*row.Day)]
			case row.ByTeam:
				var id int64
				if row.TeamID != nil {
					id = *row.TeamID
				}
				s = byTeam[id]
			default:
				s = &r.Total
			}
			if s != nil {
				apply(s, row)
			}
		}
		return nil
	}
	secs := func(f *float64) time.Duration {
		if f == nil {
			return 0
		}
		return time.Duration(*f * float64(time.Second)).Round(time.Second)
	}
	// Grouped by day, by team and in total in one pass; by_team marks the
	// per-team rows (where a NULL team is the group without one).
	const dayCol = `(date_trunc('day', %s AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`
	err = grouped("created", `
		SELECT `+fmt.Sprintf(dayCol, "created_at")+` AS day, team_id, GROUPING(team_id) = 0 AND GROUPING(`+fmt.Sprintf(dayCol, "created_at")+`) = 1 AS by_team,
		       count(*) AS n, count(first_response_at) AS n2,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)) AS median2
		FROM conversations
		WHERE kind = 'customer' AND created_at >= @from AND created_at < @to AND `+teamCond("team_id")+`
		GROUP BY GROUPING SETS ((`+fmt.Sprintf(dayCol, "created_at")+`), (team_id), ())`,
		func(s *ReportStats, row reportRow) {
			s.Volume, s.FirstCount, s.FirstMedian = row.N, row.N2, secs(row.Median2)
		})
	if err != nil {
		return nil, err
	}
	err = grouped("closed", `
		SELECT `+fmt.Sprintf(dayCol, "closed_at")+` AS day, team_id, GROUPING(team_id) = 0 AND GROUPING(`+fmt.Sprintf(dayCol, "closed_at")+`) = 1 AS by_team,
		       count(*) AS n,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - created_at)) AS median
		FROM conversations
		WHERE kind = 'customer' AND closed_at IS NOT NULL AND closed_at >= @from AND closed_at < @to AND `+teamCond("team_id")+`
		GROUP BY GROUPING SETS ((`+fmt.Sprintf(dayCol, "closed_at")+`), (team_id), ())`,
		func(s *ReportStats, row reportRow) {
			s.Resolved, s.ResolveMedian = row.N, secs(row.Median)
		})
	if err != nil {
		return nil, err
	}
	err = grouped("breaches", `
		SELECT `+fmt.Sprintf(dayCol, "due_at")+` AS day, team_id, GROUPING(team_id) = 0 AND GROUPING(`+fmt.Sprintf(dayCol, "due_at")+`) = 1 AS by_team,
		       count(*) AS n
		FROM sla_breaches
		WHERE due_at >= @from AND due_at < @to AND `+teamCond("team_id")+`
		GROUP BY GROUPING SETS ((`+fmt.Sprintf(dayCol, "due_at")+`), (team_id), ())`,
		func(s *ReportStats, row reportRow) { s.Breaches = row.N })
	if err != nil {
		return nil, err
	}
	return r, nil
}
