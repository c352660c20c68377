package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// instance is one Parley instance's view of a test database: its own pool,
// GORM handle and running broker.
type instance struct {
	url  string
	db   *gorm.DB
	pool *pgxpool.Pool
	rt   *Broker
}

// setup starts a broker on a fresh database, or on url's when one is given
// (a second instance of the same desk).
func setup(t testing.TB, url ...string) *instance {
	t.Helper()
	in := newInstance(t, append(url, "")[0])
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	require.NoError(t, in.rt.Start(ctx))
	return in
}

// newInstance is setup's instance with its broker not started, on url's
// database (a fresh one if empty).
func newInstance(t testing.TB, url string) *instance {
	t.Helper()
	in := &instance{url: url}
	if in.url == "" {
		in.url = dbtest.URL(t)
	}
	ctx := context.Background()
	var err error
	in.pool, err = pgxpool.New(ctx, in.url)
	require.NoError(t, err)
	sqlDB := stdlib.OpenDBFromPool(in.pool)
	in.db, err = gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger: logger.Discard, SkipDefaultTransaction: true,
		NowFunc: func() time.Time { return time.Now().UTC() },
	})
	require.NoError(t, err)
	in.rt = NewBroker(slog.New(slog.DiscardHandler), in.db, in.pool)
	t.Cleanup(func() {
		sqlDB.Close()
		in.pool.Close()
	})
	return in
}

// collect reads message events from sub until want distinct ones arrived or
// the deadline passes; it fails on any duplicate.
func collect(t *testing.T, sub *Subscription, wake chan struct{}, want int, timeout time.Duration) map[int64]bool {
	t.Helper()
	got := map[int64]bool{}
	deadline := time.After(timeout)
	for len(got) < want {
		select {
		case <-wake:
			for _, b := range sub.Take() {
				for _, e := range b.Events {
					if e.Kind != models.EventMessage {
						continue
					}
					require.False(t, got[*e.MessageID], "message %d delivered twice", *e.MessageID)
					got[*e.MessageID] = true
					require.NotNil(t, b.Messages[*e.MessageID], "batch carries the message")
				}
			}
		case <-sub.Dropped():
			t.Fatal("subscriber dropped")
		case <-deadline:
			t.Fatalf("only %d of %d messages delivered", len(got), want)
		}
	}
	return got
}

// Many writers whose transactions overlap and commit out of id order, plus
// rolled-back writes: every committed message reaches a subscriber on the
// same instance and one on another instance exactly once; nothing rolled
// back does; and a replay from the start yields the same set.
func TestRealtimeDeliversEveryCommittedEventOnceAcrossInstances(t *testing.T) {
	t.Parallel()
	a := setup(t)
	b := setup(t, a.url)
	ctx := context.Background()
	start := a.rt.Cursor()
	wakeA, wakeB := make(chan struct{}, 1), make(chan struct{}, 1)
	subA, _ := a.rt.Subscribe(0, signal(wakeA))
	subB, _ := b.rt.Subscribe(0, signal(wakeB))

	const writers, perWriter = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[int64]bool{}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, v, err := models.CreateVisitor(ctx, a.db)
			if !assertNoErr(t, err) {
				return
			}
			conv, first, err := factory.Write2(a.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
				return models.StartCustomerConversation(ctx, tx, v.Customer, "hello", models.SessionInfo{})
			})
			if !assertNoErr(t, err) {
				return
			}
			mu.Lock()
			committed[first.ID] = true
			mu.Unlock()
			a.rt.Ring()
			for i := range perWriter {
				if i%5 == 4 {
					// A write that rolls back after its event row was inserted,
					// holding its transaction open a moment so others overtake it.
					err := factory.Write(a.db, func(tx models.Tx) error {
						if _, err := models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "never"); err != nil {
							return err
						}
						time.Sleep(time.Duration(w) * time.Millisecond)
						return errors.New("roll back")
					})
					if err == nil || err.Error() != "roll back" {
						t.Errorf("rollback: %v", err)
					}
					continue
				}
				m, err := factory.Write1(a.db, func(tx models.Tx) (*models.Message, error) {
					return models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "message")
				})
				if !assertNoErr(t, err) {
					return
				}
				mu.Lock()
				committed[m.ID] = true
				mu.Unlock()
				if i%2 == 0 {
					a.rt.Ring() // other writes rely on later rings or the safety poll
				}
			}
		}()
	}
	wg.Wait()
	a.rt.Ring()
	want := len(committed)
	gotA := collect(t, subA, wakeA, want, 20*time.Second)
	gotB := collect(t, subB, wakeB, want, 20*time.Second)
	require.Equal(t, committed, gotA)
	require.Equal(t, committed, gotB, "the other instance learns of every event through NOTIFY and the log")

	// A client that reconnects from the start replays exactly the same set.
	replay, err := loadBatch(ctx, a.db, start, a.rt.Cursor())
	require.NoError(t, err)
	got := map[int64]bool{}
	for _, e := range replay.Events {
		if e.Kind == models.EventMessage {
			require.False(t, got[*e.MessageID])
			got[*e.MessageID] = true
		}
	}
	require.Equal(t, committed, got)
}

func signal(ch chan struct{}) func() {
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func assertNoErr(t *testing.T, err error) bool {
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

// A slow subscriber is dropped rather than slowing everyone down; it then
// resumes from its position without losing anything.
func TestRealtimeDropsSlowSubscriber(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	slow, _ := e.rt.Subscribe(0, func() {})
	v, conv := startConversation(t, e.db, "hi")
	for range maxPending + 10 {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "x")
		})
		require.NoError(t, err)
		require.NoError(t, e.rt.Poll(ctx)) // one batch per message
	}
	select {
	case <-slow.Dropped():
	case <-time.After(5 * time.Second):
		t.Fatal("slow subscriber not dropped")
	}
	require.Zero(t, e.rt.Subscribers())
}

// A visitor's subscription only hears about its own customer's
// conversations and desk-wide changes.
func TestRealtimeRoutesVisitorsByCustomer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	_, alice, err := models.CreateVisitor(ctx, e.db)
	require.NoError(t, err)
	_, bob, err := models.CreateVisitor(ctx, e.db)
	require.NoError(t, err)
	wake := make(chan struct{}, 1)
	sub, _ := e.rt.Subscribe(alice.CustomerID, signal(wake))

	_, _, err = factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, bob.Customer, "Bob's business", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, e.rt.Poll(ctx))
	require.Empty(t, sub.Take(), "nothing about another customer")

	conv, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, alice.Customer, "Alice asks", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, e.rt.Poll(ctx))
	got := sub.Take()
	require.Len(t, got, 1)
	require.Equal(t, conv.ID, *got[0].Events[0].ConversationID)

	admin := factory.User(t, e.db, factory.UserOpts{Name: "Ada", Email: "ada@example.com", Role: models.RoleAdmin, CustomerSupport: true})
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, false) }))
	require.NoError(t, e.rt.Poll(ctx))
	got = sub.Take()
	require.Len(t, got, 1, "desk-wide changes reach every visitor")
	require.Equal(t, models.EventDeskStatus, got[0].Events[0].Kind)
}

// startConversation has a new visitor start a customer conversation with
// body.
func startConversation(t *testing.T, db *gorm.DB, body string) (*models.Visitor, *models.Conversation) {
	t.Helper()
	ctx := context.Background()
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, v.Customer, body, models.SessionInfo{})
	})
	require.NoError(t, err)
	return v, conv
}
