package models_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// BenchmarkNotificationScale prints what a new customer conversation costs
// as the desk grows (5 → 2,000 support agents: rows written, events, time of
// the notify job) and what the unread counts cost as one agent's history
// grows (1,000 → 100,000 conversations touched: the bell count, the nav's
// unread counts and the bell's panel, with the buffers EXPLAIN reports).
// Issue 12 item 7: both must stay flat. Run it once:
//
//	go test ./models -run '^$' -bench NotificationScale -benchtime 1x
func BenchmarkNotificationScale(b *testing.B) {
	for range b.N {
		ctx := context.Background()
		fmt.Println("new customer conversation → notify job (40 conversations each):")
		fmt.Println("| support agents | notification rows written | notification events | Notify (the write) p50 | p90 | AudienceOf (read) p50 |")
		fmt.Println("|---:|---:|---:|---:|---:|---:|")
		for _, agents := range []int{5, 200, 2000} {
			benchNewConversation(ctx, b, agents)
		}
		fmt.Println()
		fmt.Println("one agent's unread counts (30 runs each; median; buffers: shared pages EXPLAIN ANALYZE touched):")
		fmt.Println("| conversations touched | bell count | bell buffers | nav unread counts | nav buffers | bell panel (8) |")
		fmt.Println("|---:|---:|---:|---:|---:|---:|")
		for _, convs := range []int{1000, 10000, 100000} {
			benchUnread(ctx, b, convs)
		}
	}
}

func benchDB(tb testing.TB) *gorm.DB {
	pool := dbtest.Pool(tb, dbtest.URL(tb), func(url string) (*pgxpool.Pool, error) {
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.MaxConns = 4
		return pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return gormOver(tb, pool)
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func median(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*q)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func benchNewConversation(ctx context.Context, b *testing.B, agents int) {
	db := benchDB(b)
	must(b, db.Exec(`INSERT INTO users (name, email, customer_support)
		SELECT 'Agent ' || g, 'agent' || g || '@example.com', true FROM generate_series(1, ?) g`, agents).Error)
	_, cust := factory.Customer(b, db)
	count := func() (rows, events int64) {
		must(b, db.Raw("SELECT count(*) FROM notifications").Scan(&rows).Error)
		must(b, db.Raw("SELECT count(*) FROM events WHERE kind = ?", models.EventNotification).Scan(&events).Error)
		return
	}
	const n = 40
	var times, audience []time.Duration
	for range n {
		_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		must(b, err)
		var ev models.Event
		must(b, db.Where("kind = ?", models.EventConversation).Order("id DESC").Take(&ev).Error)
		// What jobs.NotifyWorker does: who (a read over the agents, which
		// the mail fan-out needs too), then the write.
		start := time.Now()
		a, err := models.AudienceOf(ctx, db, ev)
		must(b, err)
		audience = append(audience, time.Since(start))
		start = time.Now()
		told, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, ev, a) })
		must(b, err)
		times = append(times, time.Since(start))
		if told != agents {
			b.Fatalf("told %d of %d agents", told, agents)
		}
	}
	rows, events := count()
	fmt.Printf("| %d | %.0f per conversation | %.0f per conversation | %s | %s | %s |\n", agents,
		float64(rows)/n, float64(events)/n, ms(median(times, 0.5)), ms(median(times, 0.9)), ms(median(audience, 0.5)))
}

var buffersRe = regexp.MustCompile(`Buffers: shared hit=(\d+)(?: read=(\d+))?`)

// topBuffers is the buffers line of the plan's top node.
func topBuffers(plan string) string {
	for _, line := range strings.Split(plan, "\n") {
		if m := buffersRe.FindStringSubmatch(line); m != nil {
			if m[2] != "" {
				return m[1] + "+" + m[2]
			}
			return m[1]
		}
	}
	return "?"
}

// benchUnread seeds one support agent who has touched convs customer
// conversations over time, the way the desk leaves them: each one a
// broadcast they opened (their read row of it), one they wrote in (read up
// to its last message), with a message notification they read; then a
// handful of unread ones of each kind, which the counts must find.
func benchUnread(ctx context.Context, b *testing.B, convs int) {
	db := benchDB(b)
	me := factory.User(b, db, factory.UserOpts{Email: "me@example.com", CustomerSupport: true})
	factory.User(b, db, factory.UserOpts{Email: "other@example.com", CustomerSupport: true})
	_, cust := factory.Customer(b, db)
	seed := []string{
		`INSERT INTO conversations (kind, status, closed_at, customer_id, last_message_id, last_message_at, created_at)
		 SELECT 'customer', 'closed', now(), @cust, g, now() - make_interval(mins => @n - g), now() - make_interval(mins => @n - g)
		 FROM generate_series(1, @n) g`,
		`INSERT INTO conversation_users (conversation_id, user_id, participated, last_read_message_id)
		 SELECT id, @me, true, last_message_id FROM conversations`,
		// Made before the agent existed would hide them: backdate the agent.
		`UPDATE users SET created_at = now() - interval '1 year'`,
		`INSERT INTO notifications (user_id, reason, conversation_id, message_id, event_id, data, created_at)
		 SELECT NULL, 'new_conversation', id, NULL, 1000000000 + id, '{"customer": "Carla"}', created_at FROM conversations ORDER BY id`,
		`INSERT INTO notifications (id, user_id, reason, conversation_id, event_id, data, read_at, created_at, broadcast_id) OVERRIDING SYSTEM VALUE
		 SELECT (4611686018427387904 + (b.id << 24) + @me), @me, b.reason, b.conversation_id, b.event_id, b.data, now(), b.created_at, b.id
		 FROM notifications b WHERE b.user_id IS NULL`,
		`INSERT INTO notifications (user_id, reason, conversation_id, event_id, data, read_at)
		 SELECT @me, 'message', id, 2000000000 + id, '{}', now() FROM conversations ORDER BY id`,
		// What advanceBroadcastWatermark leaves after the agent opened them.
		`UPDATE users SET notify_read_upto = (SELECT max(id) FROM notifications WHERE user_id IS NULL)`,
	}
	args := map[string]any{"me": me.ID, "cust": cust.ID, "n": convs}
	for _, s := range seed {
		if strings.Contains(s, "@") {
			must(b, db.Exec(s, args).Error)
		} else {
			must(b, db.Exec(s).Error)
		}
	}
	// Live, unread: 3 new conversations (broadcasts), 2 assignments, and a
	// customer message in 3 of the agent's old conversations.
	for range 3 {
		_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		must(b, err)
		var ev models.Event
		must(b, db.Where("kind = ?", models.EventConversation).Order("id DESC").Take(&ev).Error)
		a, err := models.AudienceOf(ctx, db, ev)
		must(b, err)
		_, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, ev, a) })
		must(b, err)
	}
	must(b, db.Exec(`INSERT INTO notifications (user_id, reason, conversation_id, event_id) SELECT @me, 'assigned', id, 3000000000 + id
		FROM conversations ORDER BY id LIMIT 2`, args).Error)
	must(b, db.Exec(`UPDATE conversations SET last_message_id = last_message_id + 1000000000
		WHERE id IN (SELECT id FROM conversations ORDER BY id LIMIT 3)`).Error)
	must(b, db.Exec("ANALYZE").Error)

	var bell, nav, panel []time.Duration
	var count int
	var summary models.UnreadSummary
	for range 30 {
		start := time.Now()
		var err error
		count, err = models.CountUnreadNotifications(ctx, db, me)
		must(b, err)
		bell = append(bell, time.Since(start))
		start = time.Now()
		summary, err = models.CountUnread(ctx, db, me)
		must(b, err)
		nav = append(nav, time.Since(start))
		start = time.Now()
		_, err = models.ListNotifications(ctx, db, me, 0, 8)
		must(b, err)
		panel = append(panel, time.Since(start))
	}
	if count != 5 || summary.Mine != 3 {
		b.Fatalf("bell %d (want 5), mine %d (want 3)", count, summary.Mine)
	}
	bellPlan, navPlan, err := models.ExplainUnreadQueries(ctx, db, me)
	must(b, err)
	if testing.Verbose() {
		fmt.Printf("bell plan at %d:\n%s\nnav plan at %d:\n%s\n", convs, bellPlan, convs, navPlan)
	}
	fmt.Printf("| %d | %s | %s | %s | %s | %s |\n", convs, ms(median(bell, 0.5)), topBuffers(bellPlan),
		ms(median(nav, 0.5)), topBuffers(navPlan), ms(median(panel, 0.5)))
}
