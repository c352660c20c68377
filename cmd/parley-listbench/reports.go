package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// seedReports gives the seeded conversations what the Reports page reads,
// once (kept with -data): a team for four in five (one of the five teams),
// a first reply 1 to 30 minutes after the start for nine in ten, a breached
// first-response target for one in seven, and an admin to open the page.
func seedReports(ctx context.Context, db *gorm.DB) error {
	var done bool
	if err := db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM sla_breaches)").Scan(&done).Error; err != nil || done {
		return err
	}
	start := time.Now()
	steps := []struct{ what, sql string }{
		{"report teams", `UPDATE conversations SET team_id = CASE WHEN id % 5 = 0 THEN NULL ELSE (SELECT min(id) FROM teams) + id % 5 END,
			first_response_at = CASE WHEN id % 10 = 0 THEN NULL ELSE created_at + (1 + id % 30) * interval '1 minute' END
			WHERE kind = 'customer'`},
		{"breaches", `INSERT INTO sla_breaches (conversation_id, kind, waiting_since, due_at, team_id, assignee_id)
			SELECT id, 'first', created_at, created_at + interval '10 minutes', team_id, assignee_id
			FROM conversations WHERE kind = 'customer' AND id % 7 = 0`},
		{"report admin", `INSERT INTO users (name, email, role, customer_support)
			VALUES ('Bench Admin', 'admin@bench.example', 'admin', true) ON CONFLICT DO NOTHING`},
		{"vacuum", `VACUUM ANALYZE conversations`},
		{"vacuum", `VACUUM ANALYZE sla_breaches`},
	}
	for _, s := range steps {
		if err := db.WithContext(ctx).Exec(s.sql).Error; err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	fmt.Printf("parley-listbench: seeded the reports' data in %.1f s\n", time.Since(start).Seconds())
	return nil
}

// measureReports times the Reports page's queries (models.LoadReport, each
// query on its own) and the whole page through the handler, as an admin,
// for the default range (30 days), a week of one team, and a year.
func measureReports(ctx context.Context, db *gorm.DB, h http.Handler, n int) error {
	var admin models.User
	if err := db.Where("email = ?", "admin@bench.example").Take(&admin).Error; err != nil {
		return fmt.Errorf("bench admin: %w", err)
	}
	token, _, err := models.CreateSession(ctx, db, admin.ID, models.SessionOpts{TTL: time.Hour})
	if err != nil {
		return err
	}
	var team int64
	db.WithContext(ctx).Raw("SELECT min(id) + 1 FROM teams").Scan(&team)
	var newest time.Time
	db.WithContext(ctx).Raw("SELECT max(created_at) FROM conversations").Scan(&newest)
	to := newest.UTC().Format("2006-01-02")
	cases := []struct{ name, query string }{
		{"30 days (default)", ""},
		{"30 days · one team", fmt.Sprintf("team=%d", team)},
		{"7 days", "from=" + newest.UTC().AddDate(0, 0, -6).Format("2006-01-02") + "&to=" + to},
		{"366 days (all the seed)", "from=" + newest.UTC().AddDate(0, 0, -365).Format("2006-01-02") + "&to=" + to},
	}
	m := &measurer{h: h, cookie: &http.Cookie{Name: "parley_session", Value: token}, n: n}
	fmt.Printf("\nReports page at %s conversations, %d runs each (p50 / p99 / max)\n\n", countText(ctx, db), n)
	fmt.Printf("%-26s %-12s %9s %9s %9s\n", "range", "query", "p50", "p99", "max")
	for _, c := range cases {
		v, _ := url.ParseQuery(c.query)
		if c.query == "" || v.Get("from") == "" {
			// The default range ends today; the seed ends with its newest
			// conversation (today when freshly seeded).
			v.Set("from", newest.UTC().AddDate(0, 0, -(models.DefaultReportDays-1)).Format("2006-01-02"))
			v.Set("to", to)
		}
		q, err := models.ParseReportQuery(ctx, db, v, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		per := map[string][]time.Duration{}
		var total []time.Duration
		for i := range n + 5 {
			start := time.Now()
			r, err := models.LoadReport(ctx, db, q)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i < 5 {
				continue // warm-up
			}
			total = append(total, time.Since(start))
			for k, d := range r.Timings {
				per[k] = append(per[k], d)
			}
		}
		keys := make([]string, 0, len(per))
		for k := range per {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			printDurations(c.name, k, per[k])
		}
		printDurations(c.name, "all (model)", total)
		if err := m.measure(fmt.Sprintf("%-26s %s", c.name, "page (handler)"), "", "/reports/service-levels?"+v.Encode()); err != nil {
			return err
		}
	}
	return nil
}

func printDurations(name, what string, ds []time.Duration) {
	slices.Sort(ds)
	fmt.Printf("%-26s %-12s %9s %9s %9s\n", name, what, ms(pct(ds, 50)), ms(pct(ds, 99)), ms(ds[len(ds)-1]))
}

func countText(ctx context.Context, db *gorm.DB) string {
	var n int64
	db.WithContext(ctx).Raw("SELECT count(*) FROM conversations WHERE kind = 'customer'").Scan(&n)
	return fmt.Sprintf("%d", n)
}
