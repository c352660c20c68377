package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// notifyLast runs what the notify job runs for the newest event of kind,
// and returns how many notifications it created.
func notifyLast(t *testing.T, db *gorm.DB, kind string) int {
	t.Helper()
	var e models.Event
	require.NoError(t, db.Where("kind = ?", kind).Order("id DESC").Take(&e).Error)
	return notifyEvent(t, db, e)
}

func notifyEvent(t *testing.T, db *gorm.DB, e models.Event) int {
	t.Helper()
	ctx := context.Background()
	a, err := models.AudienceOf(ctx, db, e)
	require.NoError(t, err)
	n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, e, a) })
	require.NoError(t, err)
	return n
}

func lastEvent(t *testing.T, db *gorm.DB, kind string) models.Event {
	t.Helper()
	var e models.Event
	require.NoError(t, db.Where("kind = ?", kind).Order("id DESC").Take(&e).Error)
	return e
}

func bell(t *testing.T, db *gorm.DB, u *models.User) (int, []models.Notification) {
	t.Helper()
	ctx := context.Background()
	n, err := models.CountUnreadNotifications(ctx, db, u)
	require.NoError(t, err)
	list, err := models.ListNotifications(ctx, db, u, 0, 50)
	require.NoError(t, err)
	return n, list
}

func TestNotifyWhoGetsWhat(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	cat := mkUser(t, db, "cat@example.com", models.RoleAgent) // no customer-support flag
	_, cust := mkCustomer(t, db)
	_, err := models.UpdateCustomerContact(ctx, db, cust.ID, "Carla <b>", "", false)
	require.NoError(t, err)

	// A new conversation: every support agent, once, even if the job runs twice.
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "Where is   my parcel?", models.SessionInfo{})
	})
	require.NoError(t, err)
	created := lastEvent(t, db, models.EventConversation)
	require.Equal(t, 2, notifyEvent(t, db, created))
	require.Equal(t, 0, notifyEvent(t, db, created), "a retried job creates nothing")
	for _, u := range []*models.User{ann, bob} {
		n, list := bell(t, db, u)
		require.Equal(t, 1, n)
		require.Len(t, list, 1)
		got := list[0]
		assert.Equal(t, models.ReasonNewConversation, got.Reason)
		assert.Equal(t, conv.PublicID, got.ConversationPublicID)
		assert.Equal(t, "Carla <b>", got.Text("customer"))
		assert.Equal(t, "Where is my parcel?", got.Text("preview"))
		assert.True(t, got.Unread())
	}
	n, list := bell(t, db, cat)
	assert.Zero(t, n)
	assert.Empty(t, list)
	// Issue 12: a new customer conversation is one broadcast (one row, one
	// event without a user that each desk renders for its own viewer), not
	// a row and an event per recipient.
	var events struct{ All, Addressed int }
	require.NoError(t, db.Raw("SELECT count(*) AS all, count(user_id) AS addressed FROM events WHERE kind = ?", models.EventNotification).Scan(&events).Error)
	assert.Equal(t, 1, events.All, "one event for all recipients")
	assert.Zero(t, events.Addressed, "addressed to no one user: each desk renders its own viewer's entry")

	// Reading the conversation reads its notifications.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, ann, conv) }))
	n, _ = bell(t, db, ann)
	assert.Zero(t, n)

	// A new conversation someone already read before the job ran is not news to them.
	conv2, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "Another one", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, bob, conv2) }))
	require.Equal(t, 1, notifyLast(t, db, models.EventConversation))
	n, _ = bell(t, db, bob)
	assert.Equal(t, 1, n, "bob still has only the first one")

	// Assigned to Bob by Ann: Bob, with Ann's name; self-assignment: nobody.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv, &bob.ID) }))
	require.Equal(t, 1, notifyLast(t, db, models.EventConversation))
	_, list = bell(t, db, bob)
	assert.Equal(t, models.ReasonAssigned, list[0].Reason)
	assert.Equal(t, ann.Name, list[0].Text("actor"))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, bob, conv2, &bob.ID) }))
	require.Equal(t, 0, notifyLast(t, db, models.EventConversation))
}

func TestNotifyMessagesGroupAndSkipWhatWasRead(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv, &bob.ID) }))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ann}, conv, models.MessageText, "Hi, Ann here")
	})
	require.NoError(t, err) // Ann is now in the conversation too

	messageNotifications := func(u *models.User) []models.Notification {
		var out []models.Notification
		require.NoError(t, db.Where("user_id = ? AND reason = ?", u.ID, models.ReasonMessage).Order("id").Find(&out).Error)
		return out
	}

	// The customer writes twice: one unread notification each, the second
	// replacing the first with a count of 2.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "first")
	})
	require.NoError(t, err)
	firstEv := lastEvent(t, db, models.EventMessage)
	require.Equal(t, 2, notifyEvent(t, db, firstEv))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "second")
	})
	require.NoError(t, err)
	secondEv := lastEvent(t, db, models.EventMessage)
	require.Equal(t, 2, notifyEvent(t, db, secondEv))
	for _, u := range []*models.User{ann, bob} {
		got := messageNotifications(u)
		require.Len(t, got, 1, "grouped")
		assert.Equal(t, 2, got[0].Count)
		assert.Equal(t, "second", got[0].Text("preview"))
		assert.Equal(t, *secondEv.MessageID, *got[0].MessageID)
	}
	// A replaced notification is announced as such.
	var replaced int64
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ? AND data ? 'replaces'", models.EventNotification).Scan(&replaced).Error)
	assert.EqualValues(t, 2, replaced)

	// Retried jobs, in any order, change nothing.
	require.Equal(t, 0, notifyEvent(t, db, firstEv))
	require.Equal(t, 0, notifyEvent(t, db, secondEv))
	assert.Equal(t, 2, messageNotifications(bob)[0].Count)

	// Ann had the conversation open (the desk marked it read) when the third
	// message came: only Bob hears of it.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "third")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, ann, conv) }))
	require.Equal(t, 1, notifyLast(t, db, models.EventMessage))
	for _, n := range messageNotifications(ann) {
		assert.False(t, n.Unread(), "reading the conversation read her notification too")
	}
	assert.Len(t, messageNotifications(ann), 1, "and made no new one")
	assert.Equal(t, 3, messageNotifications(bob)[0].Count)

	// Once Bob read his notification, the next message starts a new one.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.MarkNotificationRead(ctx, tx, bob, messageNotifications(bob)[0].ID)
	}))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "fourth")
	})
	require.NoError(t, err)
	require.Equal(t, 2, notifyLast(t, db, models.EventMessage))
	got := messageNotifications(bob)
	require.Len(t, got, 2)
	assert.False(t, got[0].Unread())
	assert.True(t, got[1].Unread())
	assert.Equal(t, 1, got[1].Count)

	// Ann's own message tells Bob, not Ann; a note is marked as one.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ann}, conv, models.MessageNote, "internal remark")
	})
	require.NoError(t, err)
	require.Equal(t, 1, notifyLast(t, db, models.EventMessage))
	got = messageNotifications(bob)
	assert.True(t, got[len(got)-1].Flag("note"))
	assert.Equal(t, ann.Name, got[len(got)-1].Text("actor"))
}

func TestNotificationsAreTheirOwners(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	_, cust := mkCustomer(t, db)
	_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.Equal(t, 2, notifyLast(t, db, models.EventConversation))
	_, annList := bell(t, db, ann)

	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.MarkNotificationRead(ctx, tx, bob, annList[0].ID) }), models.ErrNotFound)
	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.MarkNotificationRead(ctx, tx, bob, 999999) }), models.ErrNotFound)
	mine, err := models.NotificationsByID(ctx, db, bob, []int64{annList[0].ID})
	require.NoError(t, err)
	assert.Empty(t, mine)

	n, err := factory.Write1(db, func(tx models.Tx) (int64, error) { return models.MarkAllNotificationsRead(ctx, tx, bob) })
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	count, _ := bell(t, db, ann)
	assert.Equal(t, 1, count, "Bob's mark-all leaves Ann's alone")

	// Losing the support flag hides customer notifications.
	require.NoError(t, db.Exec("UPDATE users SET customer_support = false WHERE id = ?", ann.ID).Error)
	ann.CustomerSupport = false
	count, list := bell(t, db, ann)
	assert.Zero(t, count)
	assert.Empty(t, list)
}

func TestPruneNotifications(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	_, cust := mkCustomer(t, db)
	for range 4 {
		_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		require.Equal(t, 1, notifyLast(t, db, models.EventConversation))
	}
	_, list := bell(t, db, ann)
	require.Len(t, list, 4)
	// Read long ago; read recently; unread but ancient; unread and recent.
	require.NoError(t, db.Exec("UPDATE notifications SET read_at = now() - interval '40 days' WHERE id = ?", list[0].ID).Error)
	require.NoError(t, db.Exec("UPDATE notifications SET read_at = now() - interval '1 day' WHERE id = ?", list[1].ID).Error)
	require.NoError(t, db.Exec("UPDATE notifications SET created_at = now() - interval '100 days' WHERE id = ?", list[2].ID).Error)
	n, err := models.PruneNotifications(ctx, db, 30*24*time.Hour, 90*24*time.Hour)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
	_, left := bell(t, db, ann)
	require.Len(t, left, 2)
	assert.Equal(t, list[1].ID, left[0].ID)
	assert.Equal(t, list[3].ID, left[1].ID)
}

func TestUnreadNotificationCountIsCapped(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ann := mkSupport(t, db, "ann@example.com")
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(context.Background(), tx, cust, "hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, db.Exec(`INSERT INTO notifications (user_id, reason, conversation_id, event_id)
		SELECT ?, 'assigned', ?, g FROM generate_series(1000, 1000 + ?) g`, ann.ID, conv.ID, models.MaxUnreadCount).Error)
	n, _ := bell(t, db, ann)
	assert.Equal(t, models.MaxUnreadCount, n)
}
