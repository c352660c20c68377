package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestSetAutoCloseValidates(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		amount, unit string
		want         *int // minutes stored; nil: off
		code         string
	}{
		{"", "minutes", nil, ""},
		{"  ", "hours", nil, ""},
		{"90", "minutes", ptr(90), ""},
		{"2", "hours", ptr(120), ""},
		{"525600", "minutes", ptr(525600), ""},
		{"8760", "hours", ptr(525600), ""},
		{"0", "minutes", nil, "auto_close_range"},
		{"-5", "minutes", nil, "auto_close_range"},
		{"1.5", "hours", nil, "auto_close_range"},
		{"abc", "minutes", nil, "auto_close_range"},
		{"525601", "minutes", nil, "auto_close_range"},
		{"8761", "hours", nil, "auto_close_range"},
		{"5", "weeks", nil, "auto_close_unit_invalid"},
	} {
		require.NoError(t, models.SetAutoClose(ctx, db, models.AutoCloseInput{Amount: "7", Unit: "minutes"}))
		err := models.SetAutoClose(ctx, db, models.AutoCloseInput{Amount: tc.amount, Unit: tc.unit})
		s, gerr := models.GetSettings(ctx, db)
		require.NoError(t, gerr)
		if tc.code != "" {
			field := "auto_close_amount"
			if tc.code == "auto_close_unit_invalid" {
				field = "auto_close_unit"
			}
			assert.Equal(t, tc.code, fieldCode(t, err, field), "%q %s", tc.amount, tc.unit)
			assert.Equal(t, 7, *s.AutoCloseAfterMinutes, "unchanged on error")
			continue
		}
		require.NoError(t, err, "%q %s", tc.amount, tc.unit)
		assert.Equal(t, tc.want, s.AutoCloseAfterMinutes, "%q %s", tc.amount, tc.unit)
	}
}

func ptr(n int) *int { return &n }

func TestAutoCloseIdle(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	_, cust := mkCustomer(t, db)
	idle, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "anyone?", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ann}, idle, models.MessageText, "Yes: what can we do for you?")
	})
	require.NoError(t, err)
	busy, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "still here", models.SessionInfo{})
	})
	require.NoError(t, err)
	closed, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "done", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, ann, closed, models.StatusClosed) }))
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ann, []int64{mkSupport(t, db, "bob@example.com").ID}, "lunch?")
	})
	require.NoError(t, err)
	// Everything happened three hours ago except the busy conversation.
	require.NoError(t, db.Exec("UPDATE conversations SET updated_at = now() - interval '3 hours' WHERE id IN ?",
		[]int64{idle.ID, closed.ID, internal.ID}).Error)

	// Off (no delay): nothing.
	n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), 0, 100) })
	require.NoError(t, err)
	require.Zero(t, n)
	// Idle for 4 hours, as of now: none yet. As of 2 hours later: the idle one.
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), 4*time.Hour, 100) })
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) {
		return models.AutoCloseIdle(ctx, tx, time.Now().Add(2*time.Hour), 4*time.Hour, 100)
	})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) {
		return models.AutoCloseIdle(ctx, tx, time.Now().Add(2*time.Hour), 4*time.Hour, 100)
	})
	require.NoError(t, err)
	require.Zero(t, n, "closed once")

	statusOf := func(c *models.Conversation) string {
		var s string
		require.NoError(t, db.Raw("SELECT status FROM conversations WHERE id = ?", c.ID).Scan(&s).Error)
		return s
	}
	assert.Equal(t, models.StatusClosed, statusOf(idle))
	assert.Equal(t, models.StatusOpen, statusOf(busy))
	assert.Equal(t, models.StatusOpen, statusOf(internal), "teammate chats are never auto-closed")

	msgs, err := models.ListMessages(ctx, db, idle, true)
	require.NoError(t, err)
	last := msgs[len(msgs)-1]
	assert.Equal(t, models.SysAutoClosed, last.Event)
	assert.True(t, last.VisibleToCustomer())
	var statusEvents int64
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ? AND conversation_id = ? AND data->>'status' = 'closed'",
		models.EventConversation, idle.ID).Scan(&statusEvents).Error)
	assert.EqualValues(t, 1, statusEvents, "open desks and widgets hear of it")

	// The customer writes again: reopened, with the usual line.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, idle, models.MessageText, "hello again")
	})
	require.NoError(t, err)
	assert.Equal(t, models.StatusOpen, statusOf(idle))
	msgs, err = models.ListMessages(ctx, db, idle, true)
	require.NoError(t, err)
	assert.Equal(t, models.SysReopenedByCustomer, msgs[len(msgs)-2].Event)
}

// Concurrent runs (two instances, a retried job) never close a conversation
// twice: each gets its own rows.
func TestAutoCloseIdleConcurrentRunsCloseOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, cust := mkCustomer(t, db)
	ann := mkSupport(t, db, "ann@example.com")
	for range 30 {
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hi", models.SessionInfo{})
		})
		require.NoError(t, err)
		_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: ann}, conv, models.MessageText, "hello")
		})
		require.NoError(t, err)
	}
	require.NoError(t, db.Exec("UPDATE conversations SET updated_at = now() - interval '2 hours'").Error)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), time.Hour, 5) })
				assert.NoError(t, err)
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 || err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 30, total)
	var lines int64
	require.NoError(t, db.Raw("SELECT count(*) FROM messages WHERE event = ?", models.SysAutoClosed).Scan(&lines).Error)
	assert.EqualValues(t, 30, lines)
}

// A conversation someone is writing in (locked by a post) is left for the
// next run; rows that merely reference it (a notification or an event being
// inserted) do not hold it back.
func TestAutoCloseIdleSkipsOnlyConversationsBeingWritten(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hi", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: mkSupport(t, db, "ann@example.com")}, conv, models.MessageText, "hello")
	})
	require.NoError(t, err)
	require.NoError(t, db.Exec("UPDATE conversations SET updated_at = now() - interval '2 hours'").Error)

	post := db.Begin()
	require.NoError(t, post.Exec("SELECT 1 FROM conversations WHERE id = ? FOR UPDATE", conv.ID).Error)
	n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), time.Hour, 10) })
	require.NoError(t, err)
	assert.Zero(t, n, "being written in")
	require.NoError(t, post.Rollback().Error)

	ref := db.Begin()
	require.NoError(t, ref.Exec("SELECT 1 FROM conversations WHERE id = ? FOR KEY SHARE", conv.ID).Error)
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), time.Hour, 10) })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, ref.Rollback().Error)
}

// Auto-close closes only conversations waiting on the customer: the last
// public message (not a note, not a status line) is the team's. An
// unanswered customer question stays open however long it waits.
func TestAutoCloseOnlyWhenWaitingOnCustomer(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	_, cust := mkCustomer(t, db)
	post := func(conv *models.Conversation, actor models.Actor, kind, body string) {
		t.Helper()
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, actor, conv, kind, body)
		})
		require.NoError(t, err)
	}
	agent, customer := models.Actor{User: ann}, models.Actor{Customer: cust}
	cases := []struct {
		name   string
		then   func(conv *models.Conversation) // after the customer's first message
		closed bool
	}{
		{"last public message from the customer", func(*models.Conversation) {}, false},
		{"customer wrote again after the answer", func(c *models.Conversation) {
			post(c, agent, models.MessageText, "Which order?")
			post(c, customer, models.MessageText, "Order 42")
		}, false},
		{"last public message from an agent", func(c *models.Conversation) {
			post(c, agent, models.MessageText, "It ships today.")
		}, true},
		{"an agent's note after the customer's message", func(c *models.Conversation) {
			post(c, agent, models.MessageNote, "checking with the warehouse")
		}, false},
		{"status lines after the customer's message do not count", func(c *models.Conversation) {
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, c, &ann.ID) }))
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, ann, c, models.StatusClosed) }))
			post(c, customer, models.MessageText, "still there?") // reopens, with a status line
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, c, nil) }))
		}, false},
		{"agent's answer, then a note and status lines", func(c *models.Conversation) {
			post(c, agent, models.MessageText, "Done, anything else?")
			post(c, agent, models.MessageNote, "refund issued")
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, c, &ann.ID) }))
		}, true},
	}
	convs := make([]*models.Conversation, len(cases))
	for i, tc := range cases {
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "My parcel never arrived ("+tc.name+")", models.SessionInfo{})
		})
		require.NoError(t, err)
		tc.then(conv)
		convs[i] = conv
	}
	// Everything is a day old; the delay is an hour.
	require.NoError(t, db.Exec("UPDATE conversations SET updated_at = now() - interval '1 day'").Error)
	n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.AutoCloseIdle(ctx, tx, time.Now(), time.Hour, 100) })
	require.NoError(t, err)
	want := 0
	for i, tc := range cases {
		var status string
		require.NoError(t, db.Raw("SELECT status FROM conversations WHERE id = ?", convs[i].ID).Scan(&status).Error)
		if tc.closed {
			want++
			assert.Equal(t, models.StatusClosed, status, tc.name)
		} else {
			assert.Equal(t, models.StatusOpen, status, tc.name)
		}
	}
	assert.Equal(t, want, n)
}
