package models_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func countBodies(t *testing.T, db *gorm.DB, convID int64, body string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM messages WHERE conversation_id = ? AND body = ?", convID, body).Scan(&n).Error)
	return n
}

// A post retried with its idempotency key (the answer to the first was lost)
// returns the stored message and stores nothing; keys are per author; a
// retry racing its original stores one message.
func TestPostMessageIdempotencyKey(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hi", models.SessionInfo{})
	})
	require.NoError(t, err)
	opts := models.PostOpts{IdempotencyKey: "c0ffee00-0001"}

	first, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "anyone?", opts)
	})
	require.NoError(t, err)
	assert.False(t, first.Replayed)
	again, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "anyone?", opts)
	})
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.ID, again.ID)
	assert.EqualValues(t, 1, countBodies(t, db, conv.ID, "anyone?"))
	var events int64
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE message_id = ?", first.ID).Scan(&events).Error)
	assert.EqualValues(t, 1, events, "a replay announces nothing")
	// A retry that arrives once the conversation is closed replays too: it
	// does not reopen the conversation for a message already stored.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetStatus(ctx, tx, ann, conv, models.StatusClosed)
	}))
	again, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "anyone?", opts)
	})
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	var status string
	require.NoError(t, db.Raw("SELECT status FROM conversations WHERE id = ?", conv.ID).Scan(&status).Error)
	assert.Equal(t, models.StatusClosed, status)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetStatus(ctx, tx, ann, conv, models.StatusOpen)
	}))

	// Another author with the same key is another message; so is a note.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{User: ann}, conv, models.MessageNote, "anyone?", opts)
	})
	require.NoError(t, err)
	assert.EqualValues(t, 2, countBodies(t, db, conv.ID, "anyone?"))
	// The same key in another conversation is refused.
	other, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "other", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, other, models.MessageText, "anyone?", opts)
	})
	assert.Equal(t, "idempotency_key_invalid", fieldCode(t, err, "idempotency_key"))
	// Malformed keys are refused before anything is stored.
	for _, k := range []string{"short", "has space in it", "é-not-ascii-key", string(make([]byte, 101))} {
		_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessageWithOpts(ctx, tx, models.Actor{User: bob}, conv, models.MessageText, "bad key", models.PostOpts{IdempotencyKey: k})
		})
		assert.Equal(t, "idempotency_key_invalid", fieldCode(t, err, "idempotency_key"), "%q", k)
	}
	assert.Zero(t, countBodies(t, db, conv.ID, "bad key"))

	// A retry sent while the original is still running stores one message.
	var wg sync.WaitGroup
	race := models.PostOpts{IdempotencyKey: "c0ffee00-race"}
	ids := make([]int64, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := *conv
			m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
				return models.PostMessageWithOpts(ctx, tx, models.Actor{User: bob}, &c, models.MessageText, "raced", race)
			})
			if assert.NoError(t, err) {
				ids[i] = m.ID
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, countBodies(t, db, conv.ID, "raced"))
	for _, id := range ids {
		assert.Equal(t, ids[0], id)
	}
}

// A retried start (same key) returns the conversation it opened.
func TestStartVisitorConversationIdempotencyKey(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	in := models.VisitorStart{Body: "First question", IdempotencyKey: "start-0000-0001"}
	conv, msg, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, in)
	})
	require.NoError(t, err)
	again, msg2, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, in)
	})
	require.NoError(t, err)
	assert.Equal(t, conv.ID, again.ID)
	assert.Equal(t, conv.PublicID, again.PublicID)
	assert.Equal(t, msg.ID, msg2.ID)
	assert.True(t, msg2.Replayed)
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM conversations WHERE customer_id = ?", v.CustomerID).Scan(&n).Error)
	assert.EqualValues(t, 1, n)
}

// A chat link's visitor sees and writes in that conversation only.
func TestChatLinkVisitorIsScoped(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, owner, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	a, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, owner, models.VisitorStart{Body: "A", Email: "zoe@client.test"})
	})
	require.NoError(t, err)
	b, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, owner, models.VisitorStart{Body: "B"})
	})
	require.NoError(t, err)
	tok, err := models.ChatLinkToken(ctx, db, a, time.Now().Add(time.Hour))
	require.NoError(t, err)
	vt, _, err := models.RedeemChatLink(ctx, db, tok, time.Now())
	require.NoError(t, err)
	v, err := models.FindVisitor(ctx, db, vt)
	require.NoError(t, err)
	require.True(t, v.Scoped())

	_, err = models.FindConversationForVisitor(ctx, db, v, a.PublicID)
	require.NoError(t, err)
	_, err = models.FindConversationForVisitor(ctx, db, v, b.PublicID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	convs, err := models.VisitorConversations(ctx, db, v, 30)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, a.ID, convs[0].ID)
	assert.True(t, v.Sees(a))
	assert.False(t, v.Sees(b))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, v, b, "sneaky", models.PostOpts{})
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, v, a, "thanks", models.PostOpts{})
	})
	assert.NoError(t, err)
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "new"})
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.SaveVisitorEmail(ctx, db, v, "mallory@evil.test")
	assert.ErrorIs(t, err, models.ErrNotFound)

	// The customer's own browser is not scoped.
	all, err := models.VisitorConversations(ctx, db, owner, 30)
	require.NoError(t, err)
	assert.Len(t, all, 2)
}

// While the desk is away, an anonymous visitor with no email on record must
// leave one to start; online (or with an email already) it stays optional.
func TestStartVisitorConversationEmailWhileAway(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)

	require.NoError(t, db.Exec("UPDATE desk_settings SET online = false").Error)
	settings.Online = false
	assert.True(t, v.EmailRequired(settings))
	for _, email := range []string{"", "   ", "nope"} {
		_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "hello?", Email: email})
		})
		code := fieldCode(t, err, "email")
		assert.Contains(t, []string{"email_required_away", "email_invalid"}, code, "%q", email)
	}
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "hello?", Email: "zoe@client.test"})
	})
	require.NoError(t, err)
	assert.False(t, v.EmailRequired(settings), "known now")
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "again"})
	})
	assert.NoError(t, err)

	require.NoError(t, db.Exec("UPDATE desk_settings SET online = true").Error)
	settings.Online = true
	_, fresh, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	assert.False(t, fresh.EmailRequired(settings))
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, fresh, models.VisitorStart{Body: "online, no email"})
	})
	assert.NoError(t, err)
}

// The same key in two conversations at the same moment: the second insert
// waits on the first one's unique-index entry and, once that commits, is
// refused like the sequential case (it was a unique violation, a 500).
func TestIdempotencyKeyReusedConcurrentlyElsewhere(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, cust := mkCustomer(t, db)
	a, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "a", models.SessionInfo{})
	})
	require.NoError(t, err)
	b, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "b", models.SessionInfo{})
	})
	require.NoError(t, err)
	opts := models.PostOpts{IdempotencyKey: "c0ffee00-twice"}

	tx := db.Begin()
	defer tx.Rollback()
	_, err = factory.Write1(tx, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, a, models.MessageText, "in a", opts)
	})
	require.NoError(t, err)
	var pid int64
	require.NoError(t, tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error)

	done := make(chan error, 1)
	go func() {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: cust}, b, models.MessageText, "in b", opts)
		})
		done <- err
	}()
	// Wait until the second post is blocked behind the first transaction.
	require.Eventually(t, func() bool {
		var n int64
		db.Raw("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND ? = ANY(pg_blocking_pids(pid))", pid).Scan(&n)
		return n > 0
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, tx.Commit().Error)
	err = <-done
	assert.Equal(t, "idempotency_key_invalid", fieldCode(t, err, "idempotency_key"))
	assert.Zero(t, countBodies(t, db, b.ID, "in b"))
}

// Marking a conversation read, or following it, while a message is being
// posted in it waits for the post before it takes the reader's row, so the
// two never deadlock: the post holds the conversation and then moves every
// reader's marker (conversation_users), and a write that held the reader's
// row while it waited for the conversation deadlocked with it.
func TestReaderWritesWaitForAPostBeforeTheReadersRow(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann-read@example.com")
	cust, conv := mkConversation(t, db, "hi")
	_, err := post(t, db, models.Actor{User: ann}, conv, models.MessageText, "hello", models.PostOpts{})
	require.NoError(t, err)
	for name, write := range map[string]func(models.Tx) error{
		"mark read": func(tx models.Tx) error { return models.MarkRead(ctx, tx, ann, conv) },
		"follow":    func(tx models.Tx) error { return models.SetFollowing(ctx, tx, ann, conv, true) },
	} {
		_, err = post(t, db, models.Actor{Customer: cust}, conv, models.MessageText, "unread", models.PostOpts{})
		require.NoError(t, err)
		// A post in progress: it holds the conversation.
		post := db.Begin()
		require.NoError(t, post.Error)
		t.Cleanup(func() { post.Rollback() }) // a failed check lets the write go
		require.NoError(t, post.Exec("SELECT 1 FROM conversations WHERE id = ? FOR UPDATE", conv.ID).Error)
		done := make(chan error, 1)
		go func() { done <- factory.Write(db, write) }()
		require.Eventually(t, func() bool {
			var waiting int
			require.NoError(t, db.Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting).Error)
			return waiting > 0
		}, 10*time.Second, 10*time.Millisecond, "%s waits for the post", name)
		// The reader's row is free: the post can move its marker.
		require.NoError(t, post.Exec("SELECT 1 FROM conversation_users WHERE conversation_id = ? AND user_id = ? FOR UPDATE NOWAIT", conv.ID, ann.ID).Error, name)
		require.NoError(t, post.Commit().Error)
		require.NoError(t, <-done, name)
	}
}
