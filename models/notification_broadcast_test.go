package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Issue 12: a new customer conversation is one broadcast row and one event
// however many support agents there are; each agent's entry of it is worked
// out on read, with their own read state.
func TestNotificationBroadcast(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	dan := mkSupport(t, db, "dan@example.com")
	eve := mkSupport(t, db, "eve@example.com")
	cat := mkUser(t, db, "cat@example.com", models.RoleAgent) // no customer-support flag
	_, cust := mkCustomer(t, db)
	start := func() *models.Conversation {
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		return conv
	}
	rows := func() (notifications, events int64) {
		require.NoError(t, db.Raw("SELECT count(*) FROM notifications WHERE user_id IS NULL").Scan(&notifications).Error)
		// (Reads are events of their reader: not counted here.)
		require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ? AND user_id IS NULL", models.EventNotification).Scan(&events).Error)
		return
	}
	unread := func(u *models.User) int {
		n, err := models.CountUnreadNotifications(ctx, db, u)
		require.NoError(t, err)
		return n
	}

	conv := start()
	ev := lastEvent(t, db, models.EventConversation)
	require.Equal(t, 4, notifyEvent(t, db, ev), "counted once per support agent")
	require.Equal(t, 0, notifyEvent(t, db, ev), "a retried job adds nothing")
	n, e := rows()
	assert.EqualValues(t, 1, n, "one row for all agents")
	assert.EqualValues(t, 1, e, "one event for all agents")
	var perUser int64
	require.NoError(t, db.Raw("SELECT count(*) FROM notifications WHERE user_id IS NOT NULL").Scan(&perUser).Error)
	assert.Zero(t, perUser, "no row per agent when it is made")
	for _, u := range []*models.User{ann, bob, dan, eve} {
		assert.Equal(t, 1, unread(u), u.Email)
	}
	assert.Zero(t, unread(cat), "no support flag: not told")

	// The live path: each viewer's entry, by an id of their own; another
	// user's entry id is nothing to them.
	var bid int64
	require.NoError(t, db.Raw("SELECT id FROM notifications WHERE user_id IS NULL").Scan(&bid).Error)
	annEntry := models.BroadcastEntryID(bid, ann.ID)
	got, err := models.NotificationsByID(ctx, db, ann, []int64{annEntry})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, conv.PublicID, got[0].ConversationPublicID)
	assert.True(t, got[0].Unread())
	got, err = models.NotificationsByID(ctx, db, bob, []int64{annEntry})
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = models.NotificationsByID(ctx, db, cat, []int64{models.BroadcastEntryID(bid, cat.ID)})
	require.NoError(t, err)
	assert.Empty(t, got)
	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.MarkNotificationRead(ctx, tx, bob, annEntry) }), models.ErrNotFound)

	// Read marks are per user: Ann marks hers, Bob opens the conversation;
	// Dan and Eve still have it unread.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkNotificationRead(ctx, tx, ann, annEntry) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, bob, conv) }))
	assert.Zero(t, unread(ann))
	assert.Zero(t, unread(bob))
	assert.Equal(t, 1, unread(dan))
	assert.Equal(t, 1, unread(eve))
	_, list := bell(t, db, bob)
	require.Len(t, list, 1, "read by opening the conversation: still listed, read")
	assert.False(t, list[0].Unread())
	assert.Equal(t, models.BroadcastEntryID(bid, bob.ID), list[0].ID)

	// Mark all read covers broadcasts (and tells how many it read).
	start()
	require.Equal(t, 4, notifyLast(t, db, models.EventConversation))
	assert.Equal(t, 2, unread(dan))
	read, err := factory.Write1(db, func(tx models.Tx) (int64, error) { return models.MarkAllNotificationsRead(ctx, tx, dan) })
	require.NoError(t, err)
	assert.EqualValues(t, 2, read)
	assert.Zero(t, unread(dan))
	_, list = bell(t, db, dan)
	require.Len(t, list, 2, "still listed, read")
	assert.False(t, list[0].Unread())
	assert.False(t, list[1].Unread())
	assert.Equal(t, 2, unread(eve), "Eve's are her own")

	// A deactivated or demoted agent stops seeing them; an agent who joins
	// later is not told of what came before.
	require.NoError(t, db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", eve.ID).Error)
	eve.Active = false
	assert.Zero(t, unread(eve))
	_, list = bell(t, db, eve)
	assert.Empty(t, list)
	require.NoError(t, db.Exec("UPDATE users SET customer_support = false WHERE id = ?", ann.ID).Error)
	ann.CustomerSupport = false
	_, list = bell(t, db, ann)
	assert.Empty(t, list)
	fay := mkSupport(t, db, "fay@example.com")
	assert.Zero(t, unread(fay))
	_, list = bell(t, db, fay)
	assert.Empty(t, list)

	// A few per-user rows: what Ann marked, what Bob opened,
	// what the lists showed; never one per agent per conversation.
	require.NoError(t, db.Raw("SELECT count(*) FROM notifications WHERE user_id IS NOT NULL").Scan(&perUser).Error)
	assert.LessOrEqual(t, perUser, int64(6))
	n, e = rows()
	assert.EqualValues(t, 2, n)
	assert.EqualValues(t, 2, e)
}

// Opening conversations moves an agent's broadcast watermark over what they
// handled, so the bell's broadcast part scans only what is still news; a
// pruned entry does not come back.
func TestNotificationBroadcastWatermark(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	_, cust := mkCustomer(t, db)
	var convs []*models.Conversation
	for range 3 {
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		require.Equal(t, 1, notifyLast(t, db, models.EventConversation))
		convs = append(convs, conv)
	}
	var ids []int64
	require.NoError(t, db.Raw("SELECT id FROM notifications WHERE user_id IS NULL ORDER BY id").Scan(&ids).Error)
	watermark := func() int64 {
		var w int64
		require.NoError(t, db.Raw("SELECT notify_read_upto FROM users WHERE id = ?", ann.ID).Scan(&w).Error)
		return w
	}
	w0 := watermark()
	require.Less(t, w0, ids[0])

	// The second first: the first is still news, so the watermark waits.
	open := func(c *models.Conversation) {
		require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, ann, c) }))
	}
	open(convs[1])
	assert.Less(t, watermark(), ids[0], "waits for the first")
	open(convs[0])
	assert.GreaterOrEqual(t, watermark(), ids[1], "over the first two")
	assert.Less(t, watermark(), ids[2], "not over the third")
	n, _ := bell(t, db, ann)
	assert.Equal(t, 1, n)
	open(convs[2])
	assert.Equal(t, ids[2], watermark())
	n, list := bell(t, db, ann)
	assert.Zero(t, n)
	require.Len(t, list, 3)

	// Pruned (read long ago): gone, and not back as unread.
	require.NoError(t, db.Exec("UPDATE notifications SET read_at = now() - interval '40 days' WHERE user_id = ?", ann.ID).Error)
	pruned, err := models.PruneNotifications(ctx, db, 30*24*time.Hour, 90*24*time.Hour)
	require.NoError(t, err)
	assert.EqualValues(t, 3, pruned)
	n, list = bell(t, db, ann)
	assert.Zero(t, n)
	assert.Empty(t, list)
	// Broadcasts past keepAll go, with every user's entry of them.
	require.NoError(t, db.Exec("UPDATE notifications SET created_at = now() - interval '100 days'").Error)
	_, err = models.PruneNotifications(ctx, db, 30*24*time.Hour, 90*24*time.Hour)
	require.NoError(t, err)
	var left int64
	require.NoError(t, db.Raw("SELECT count(*) FROM notifications").Scan(&left).Error)
	assert.Zero(t, left)
}
