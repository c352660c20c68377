package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/app"
	"github.com/parleydesk/parley/internal/benchdb"
	"github.com/parleydesk/parley/models"
)

func run(ctx context.Context, o options) error {
	bdb, err := benchdb.Open(ctx, benchdb.Options{Name: "parley-listbench", DataDir: o.dataDir})
	if err != nil {
		return err
	}
	defer bdb.Close()
	dsn, db := bdb.DSN, bdb.Gorm
	if o.reseed || !seeded(ctx, db, o) {
		if err := seed(ctx, db, o); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else {
		fmt.Println("parley-listbench: reusing the seeded database")
	}
	if err := seedReports(ctx, db); err != nil {
		return fmt.Errorf("seed reports: %w", err)
	}

	cfg, err := app.LoadConfig(func(k string) string {
		return map[string]string{"DATABASE_URL": dsn, "PARLEY_LOG_LEVEL": "error"}[k]
	})
	if err != nil {
		return err
	}
	st := &statements{}
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tracer: st})
	if err != nil {
		return err
	}
	defer a.Close()

	var viewer models.User
	if err := db.Where("email = ?", "agent1@bench.example").Take(&viewer).Error; err != nil {
		return fmt.Errorf("bench viewer: %w", err)
	}
	token, _, err := models.CreateSession(ctx, db, viewer.ID, models.SessionOpts{TTL: time.Hour})
	if err != nil {
		return err
	}
	if o.reports {
		return measureReports(ctx, db, a.Handler(), o.requests)
	}
	cookie := &http.Cookie{Name: "parley_session", Value: token}
	if o.open {
		return withProfile(o.profile, func() error { return measureOpen(ctx, db, a.Handler(), st, cookie, bdb.PostgresCPU, o) })
	}
	m := &measurer{h: a.Handler(), cookie: &http.Cookie{Name: "parley_session", Value: token}, n: o.requests}

	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("\nserver time per request (full page, in-process handler), %d requests per row, viewer %s\n\n", o.requests, viewer.Email)
	fmt.Printf("%-44s %-10s %9s %9s %9s\n", "view", "page", "p50", "p99", "max")
	for _, v := range views(ctx, db) {
		if !strings.Contains(v.name, o.only) {
			continue
		}
		if err := m.view(v, o.depth); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}
	return nil
}

// view is one list as a user opens it.
type view struct {
	name string
	path string
	// next is the query parameter of the list's link to the following
	// (older) page.
	next string
}

// views lists the common views of each big list.
func views(ctx context.Context, db *gorm.DB) []view {
	vs := []view{
		{"Inbox · open · all", "/inbox", "before"},
		{"Inbox · open · unassigned", "/inbox?filter=unassigned", "before"},
		{"Inbox · open · mine", "/inbox?filter=mine", "before"},
		{"Inbox · closed · all", "/inbox?status=closed", "before"},
		{"My conversations · open", "/mine", "before"},
		// What every desk page asks for once loaded: the nav's unread counts.
		{"Nav unread counts (after each page)", "/desk/unread", ""},
	}
	return append(vs, itemViews(ctx, db)...)
}

type measurer struct {
	h      http.Handler
	cookie *http.Cookie
	n      int
}

// get runs one request through the handler and returns its body and the
// time the handler took.
func (m *measurer) get(path string) (string, time.Duration, error) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(m.cookie)
	rec := httptest.NewRecorder()
	start := time.Now()
	m.h.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != http.StatusOK {
		return "", d, fmt.Errorf("GET %s: status %d", path, rec.Code)
	}
	return rec.Body.String(), d, nil
}

// view measures page 1 of v and the page depth pages in, reached by
// following the "Older" link from page to page as a user would.
func (m *measurer) view(v view, depth int) error {
	if err := m.measure(v.name, "1", v.path); err != nil {
		return err
	}
	if v.next == "" {
		return nil
	}
	path := v.path
	for i := 1; i < depth; i++ {
		body, _, err := m.get(path)
		if err != nil {
			return err
		}
		next := regexp.MustCompile(`href="([^"]*[?&](?:amp;)?` + v.next + `=[^"]*)"`).FindStringSubmatch(body)
		if next == nil {
			fmt.Printf("%-44s %-10s %s\n", v.name, fmt.Sprint(depth), fmt.Sprintf("(the list ends at page %d)", i))
			return nil
		}
		path = html.UnescapeString(next[1])
	}
	return m.measure(v.name, fmt.Sprint(depth), path)
}

func (m *measurer) measure(name, page, path string) error {
	for range 20 { // warm up
		if _, _, err := m.get(path); err != nil {
			return err
		}
	}
	ds := make([]time.Duration, 0, m.n)
	for range m.n {
		_, d, err := m.get(path)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	fmt.Printf("%-44s %-10s %9s %9s %9s\n", name, page, ms(pct(ds, 50)), ms(pct(ds, 99)), ms(ds[len(ds)-1]))
	return nil
}

// withProfile runs fn under a CPU profile written to path (none when empty).
func withProfile(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

func pct(d []time.Duration, p float64) time.Duration {
	i := int(float64(len(d)-1) * p / 100)
	return d[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// seeded reports whether the database already holds a seed of this size.
func seeded(ctx context.Context, db *gorm.DB, o options) bool {
	var n struct{ Conversations, Messages int }
	err := db.WithContext(ctx).Raw(`SELECT (SELECT count(*) FROM conversations) AS conversations, (SELECT count(*) FROM messages) AS messages`).Scan(&n).Error
	return err == nil && n.Conversations == o.conversations && n.Messages == o.messages && itemsSeeded(ctx, db, o)
}

// seed empties the desk and fills it: agents in teams, customers, customer
// conversations (one in five open, three in ten unassigned) spread over the
// last weeks, their messages alternating customer and agent, the agents'
// read markers (a third of their conversations unread), then the items.
func seed(ctx context.Context, db *gorm.DB, o options) error {
	start := time.Now()
	perConv := max(1, o.messages/max(1, o.conversations))
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"empty", `TRUNCATE users, teams, customers, conversations, events, river_job CASCADE`, nil},
		{"settings", `INSERT INTO desk_settings (id) VALUES (1) ON CONFLICT DO NOTHING`, nil},
		{"agents", `INSERT INTO users (name, email, role, customer_support)
			SELECT 'Agent ' || g, 'agent' || g || '@bench.example', 'agent', true FROM generate_series(1, ?) g`, []any{o.agents}},
		{"teams", `INSERT INTO teams (name) SELECT 'Team ' || g FROM generate_series(1, 5) g`, nil},
		{"team members", `INSERT INTO team_members (team_id, user_id)
			SELECT t.id, u.id FROM users u JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM teams) t ON t.n = u.id % 5`, nil},
		{"customers", `INSERT INTO customers (name, email)
			SELECT 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, ?) g`, []any{max(1, o.conversations/2)}},
		{"conversations", `
			WITH b AS (SELECT (SELECT min(id) FROM customers) AS c0, (SELECT count(*) FROM customers) AS nc,
			                  (SELECT min(id) FROM users) AS u0, (SELECT count(*) FROM users) AS nu)
			INSERT INTO conversations (kind, status, customer_id, assignee_id, last_message_at, last_message_preview,
			                           waiting_since, closed_at, created_at, updated_at)
			SELECT 'customer', s.st, b.c0 + g % b.nc, CASE WHEN g % 10 < 3 THEN NULL ELSE b.u0 + (g / 10) % b.nu END,
			       s.t, 'Question ' || g || ': where is my order', CASE WHEN s.st = 'open' AND g % 2 = 0 THEN s.t END,
			       CASE WHEN s.st = 'closed' THEN s.t END, s.t - interval '1 hour', s.t
			FROM b, generate_series(1, ?) g,
			     LATERAL (SELECT CASE WHEN g % 5 = 0 THEN 'open' ELSE 'closed' END AS st,
			                     now() - g * interval '29 seconds' AS t) s`, []any{o.conversations}},
		{"messages", `
			INSERT INTO messages (conversation_id, kind, author_type, author_customer_id, author_user_id, body, created_at)
			SELECT c.id, 'message', CASE WHEN k % 2 = 1 THEN 'customer' ELSE 'agent' END,
			       CASE WHEN k % 2 = 1 THEN c.customer_id END,
			       CASE WHEN k % 2 = 0 THEN COALESCE(c.assignee_id, (SELECT min(id) FROM users)) END,
			       'Message ' || k || ' of conversation ' || c.id || ': my parcel has not arrived yet, could you check the tracking number please',
			       c.last_message_at - (? - k) * interval '1 minute'
			FROM conversations c, generate_series(1, ?) k
			ORDER BY c.id, k`, []any{perConv, perConv}},
		{"last messages", `UPDATE conversations c SET last_message_id = m.id
			FROM (SELECT conversation_id, max(id) AS id FROM messages GROUP BY 1) m WHERE m.conversation_id = c.id`, nil},
		{"read markers", `INSERT INTO conversation_users (conversation_id, user_id, participated, last_read_message_id)
			SELECT id, assignee_id, true, CASE WHEN id % 3 = 0 THEN last_message_id - 1 ELSE last_message_id END
			FROM conversations WHERE assignee_id IS NOT NULL`, nil},
	}
	for _, s := range steps {
		t := time.Now()
		if err := db.WithContext(ctx).Exec(s.sql, s.args...).Error; err != nil {
			stmt := db.ToSQL(func(tx *gorm.DB) *gorm.DB { return tx.Exec(s.sql, s.args...) })
			return fmt.Errorf("%s: %w\n%s", s.what, err, stmt)
		}
		fmt.Printf("parley-listbench: seeded %-14s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	if err := seedItems(ctx, db, o); err != nil {
		return err
	}
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE").Error; err != nil {
		return err
	}
	fmt.Printf("parley-listbench: seeded %d conversations, %d messages, %d items in %.0f s\n",
		o.conversations, perConv*o.conversations, o.items, time.Since(start).Seconds())
	return nil
}
