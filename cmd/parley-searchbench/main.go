// Command parley-searchbench measures Parley's full-text search at scale: it
// seeds a desk with customer conversations whose messages are drawn from a
// skewed vocabulary (a few words in most messages, most words in few), plus
// a handful of rare words, runs the search indexer to catch up
// (models.IndexSearch, as the search_index job does), then runs
// models.Search for common, rare and missing words, with and without
// filters, and prints p50/p95/max of each.
//
//	go run ./cmd/parley-searchbench                            (1,000,000 messages in a temporary database)
//	go run ./cmd/parley-searchbench -data /tmp/sb              (keep the seeded database for the next run)
//	go run ./cmd/parley-searchbench -messages 10000000 -data /tmp/sb10m
//
// DATABASE_URL points it at an existing server instead (its database is
// emptied and seeded).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/benchdb"
	"github.com/parleydesk/parley/models"
)

type options struct {
	messages int
	perConv  int
	runs     int
	dataDir  string
	reseed   bool
}

func main() {
	var o options
	flag.IntVar(&o.messages, "messages", 1_000_000, "messages to seed")
	flag.IntVar(&o.perConv, "per-conversation", 10, "messages per conversation")
	flag.IntVar(&o.runs, "runs", 200, "measured searches per case")
	flag.StringVar(&o.dataDir, "data", "", "directory for the private PostgreSQL (default: a temporary one); a seeded one is reused")
	flag.BoolVar(&o.reseed, "reseed", false, "seed again even if the database already holds a seed of this size")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-searchbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	bdb, err := benchdb.Open(ctx, benchdb.Options{Name: "parley-searchbench", DataDir: o.dataDir})
	if err != nil {
		return err
	}
	defer bdb.Close()
	db := bdb.Gorm
	if o.reseed || !seeded(ctx, db, o) {
		if err := seed(ctx, db, o); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else {
		fmt.Println("parley-searchbench: reusing the seeded database")
	}
	// Catch up (the first run indexes everything), then one incremental
	// run over nothing new, as the periodic job would.
	for i := 0; i < 2; i++ {
		t := time.Now()
		st, err := models.IndexSearch(ctx, db)
		if err != nil {
			return err
		}
		fmt.Printf("parley-searchbench: indexer run %d: full=%v written=%d in %.1f s\n", i+1, st.Full, st.Written, time.Since(t).Seconds())
	}
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE search_documents").Error; err != nil {
		return err
	}
	var viewer models.User
	if err := db.Where("email = ?", "agent1@bench.example").Take(&viewer).Error; err != nil {
		return fmt.Errorf("bench viewer: %w", err)
	}
	var docs int64
	db.Raw("SELECT count(*) FROM search_documents").Scan(&docs)
	fmt.Printf("\nmodels.Search time, %d runs per row (words rotate within each case), %d documents, viewer %s\n\n", o.runs, docs, viewer.Email)
	fmt.Printf("%-10s %-22s %-7s %6s %9s %9s %9s\n", "words", "filters", "plan", "hits", "p50", "p95", "max")
	words := map[string][]string{
		"common":  {"order", "parcel", "please", "account", "delivery"},
		"rare":    {"quokka", "narwhal", "axolotl", "pangolin", "okapi"},
		"missing": {"xylophonic", "zzyzx", "qwertyuiop", "blorptastic", "frumious"},
	}
	// Words a little above the probe's threshold: the walk of the newest
	// documents is longest for them.
	var medium []string
	if err := db.WithContext(ctx).Raw(`SELECT word FROM ts_stat('SELECT tsv FROM search_documents WHERE kind = ''message''')
		WHERE ndoc BETWEEN 1500 AND 4000 AND word LIKE 'w%' ORDER BY ndoc LIMIT 5`).Scan(&medium).Error; err != nil {
		return err
	}
	if len(medium) > 0 {
		words["medium"] = medium
	}
	from := time.Now().AddDate(0, 0, -7).UTC().Truncate(24 * time.Hour)
	to := time.Now().UTC().Truncate(24 * time.Hour)
	filters := []struct {
		name string
		set  func(*models.SearchQuery)
	}{
		{"none", func(*models.SearchQuery) {}},
		{"status=open", func(q *models.SearchQuery) { q.Status = models.StatusOpen }},
		{"assignee=me", func(q *models.SearchQuery) { q.Assignee = "me" }},
		{"team+channel", func(q *models.SearchQuery) { q.Team = teamID(ctx, db); q.Channel = "widget" }},
		{"last 7 days", func(q *models.SearchQuery) { q.From, q.To = &from, &to }},
		{"page 2", nil},
	}
	for _, kind := range []string{"common", "medium", "rare", "missing"} {
		if len(words[kind]) == 0 {
			continue
		}
		for _, f := range filters {
			var ds []time.Duration
			var plan string
			hits := 0
			for i := range o.runs + 10 {
				q := models.SearchQuery{Q: words[kind][i%len(words[kind])], Viewer: &viewer, Limit: 20}
				if f.set != nil {
					f.set(&q)
				} else {
					r, err := models.Search(ctx, db, q)
					if err != nil {
						return err
					}
					q.After = r.Older
					if q.After == nil {
						continue
					}
				}
				t := time.Now()
				r, err := models.Search(ctx, db, q)
				if err != nil {
					return fmt.Errorf("%s %s: %w", kind, f.name, err)
				}
				if i >= 10 { // warm-up
					ds = append(ds, time.Since(t))
				}
				plan, hits = r.Plan, len(r.Hits)
			}
			if len(ds) == 0 {
				fmt.Printf("%-10s %-22s (no second page)\n", kind, f.name)
				continue
			}
			slices.Sort(ds)
			fmt.Printf("%-10s %-22s %-7s %6d %9s %9s %9s\n", kind, f.name, plan, hits, ms(pct(ds, 50)), ms(pct(ds, 95)), ms(ds[len(ds)-1]))
		}
	}
	return nil
}

func teamID(ctx context.Context, db *gorm.DB) int64 {
	var id int64
	db.WithContext(ctx).Raw("SELECT min(id) FROM teams").Scan(&id)
	return id
}

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p/100)] }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func seeded(ctx context.Context, db *gorm.DB, o options) bool {
	var n int
	err := db.WithContext(ctx).Raw(`SELECT count(*) FROM messages`).Scan(&n).Error
	return err == nil && n == o.messages/o.perConv*o.perConv
}

// seed empties the desk and fills it: 50 support agents in 5 teams,
// customers, conversations (one in five open, most assigned, in English,
// French, Portuguese or no known language) over the last months, and their
// messages: 12 words each from a 2,000-word vocabulary drawn with a skew
// (word k about 1/k² as often as the first), and every 20,000th message
// also holds one of five rare words.
func seed(ctx context.Context, db *gorm.DB, o options) error {
	start := time.Now()
	convs := max(1, o.messages/o.perConv)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"empty", `TRUNCATE users, teams, customers, conversations, events, search_documents, river_job CASCADE`, nil},
		{"cursor", `UPDATE search_cursor SET indexed_xid = 0`, nil},
		{"settings", `INSERT INTO desk_settings (id) VALUES (1) ON CONFLICT DO NOTHING`, nil},
		{"agents", `INSERT INTO users (name, email, role, customer_support)
			SELECT 'Agent ' || g, 'agent' || g || '@bench.example', 'agent', true FROM generate_series(1, 50) g`, nil},
		{"teams", `INSERT INTO teams (name) SELECT 'Team ' || g FROM generate_series(1, 5) g`, nil},
		{"customers", `INSERT INTO customers (name, email)
			SELECT 'Customer ' || g, 'customer' || g || '@example.com' FROM generate_series(1, ?) g`, []any{max(1, convs/2)}},
		{"conversations", `
			WITH b AS (SELECT (SELECT min(id) FROM customers) AS c0, (SELECT count(*) FROM customers) AS nc,
			                  (SELECT min(id) FROM users) AS u0, (SELECT min(id) FROM teams) AS t0)
			INSERT INTO conversations (kind, status, customer_id, assignee_id, team_id, language, last_message_at,
			                           closed_at, created_at, updated_at)
			SELECT 'customer', s.st, b.c0 + g % b.nc, CASE WHEN g % 10 < 2 THEN NULL ELSE b.u0 + (g / 10) % 50 END,
			       b.t0 + g % 5, (ARRAY['en', 'fr', 'pt-BR', ''])[1 + g % 4],
			       s.t, CASE WHEN s.st = 'closed' THEN s.t END, s.t - interval '1 hour', s.t
			FROM b, generate_series(1, ?) g,
			     LATERAL (SELECT CASE WHEN g % 5 = 0 THEN 'open' ELSE 'closed' END AS st,
			                     now() - (? - g) * interval '1 minute' AS t) s`, []any{convs, convs}},
		{"vocabulary", `CREATE TEMP TABLE vocab AS
			SELECT array_agg(w ORDER BY n) AS words FROM (
				SELECT n, (ARRAY['order','parcel','please','account','delivery','invoice','refund','password','login','shipping',
				                 'payment','card','address','email','tracking','return','product','price','discount','support'])[n] AS w
				FROM generate_series(1, 20) n
				UNION ALL
				SELECT n, 'w' || md5(n::text) FROM generate_series(21, 2000) n) v`, nil},
		{"messages", `
			INSERT INTO messages (conversation_id, kind, author_type, author_customer_id, author_user_id, body, created_at)
			SELECT c.id, 'message', CASE WHEN k % 2 = 1 THEN 'customer' ELSE 'agent' END,
			       CASE WHEN k % 2 = 1 THEN c.customer_id END, CASE WHEN k % 2 = 0 THEN c.assignee_id END,
			       (SELECT string_agg(v.words[1 + x * 0 + floor(1999 * power(random(), 2) * power(random(), 2))::int], ' ')
			        FROM generate_series(1, 12) x WHERE x > k * 0) ||
			       CASE WHEN (c.id * 10 + k) % 20000 = 7 THEN ' ' || (ARRAY['quokka','narwhal','axolotl','pangolin','okapi'])[1 + (c.id / 2000) % 5] ELSE '' END,
			       c.last_message_at - (? - k) * interval '10 seconds'
			FROM vocab v, conversations c, generate_series(1, ?) k
			ORDER BY c.id, k`, []any{o.perConv, o.perConv}},
		{"last messages", `UPDATE conversations c SET last_message_id = m.id
			FROM (SELECT conversation_id, max(id) AS id FROM messages GROUP BY 1) m WHERE m.conversation_id = c.id`, nil},
	}
	for _, s := range steps {
		t := time.Now()
		if err := db.WithContext(ctx).Exec(s.sql, s.args...).Error; err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		fmt.Printf("parley-searchbench: seeded %-14s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE").Error; err != nil {
		return err
	}
	fmt.Printf("parley-searchbench: seeded %d conversations, %d messages in %.0f s\n", convs, convs*o.perConv, time.Since(start).Seconds())
	return nil
}
