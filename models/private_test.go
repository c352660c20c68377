package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// privateSetup is a customer conversation with three support agents in it
// (ann assigned, bob wrote, cat follows), one support agent outside it
// (dan), and a teammate without customer data rights (eve, who also
// follows: she is never "in" a customer conversation).
type privateSetup struct {
	db                      *gorm.DB
	ann, bob, cat, dan, eve *models.User
	cust                    *models.Customer
	conv                    *models.Conversation
}

func newPrivateSetup(t *testing.T) privateSetup {
	t.Helper()
	ctx := context.Background()
	db := setup(t)
	s := privateSetup{db: db}
	s.ann = mkSupport(t, db, "ann@example.com")
	s.bob = mkSupport(t, db, "bob@example.com")
	s.cat = mkSupport(t, db, "cat@example.com")
	s.dan = mkSupport(t, db, "dan@example.com")
	s.eve = mkUser(t, db, "eve@example.com", models.RoleAgent)
	s.cust, s.conv, _ = factory.Conversation(t, db, factory.ConversationOpts{})
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, s.ann, s.conv, &s.ann.ID) }))
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: s.bob}, s.conv, models.MessageText, "Hi, Bob here")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, s.cat, s.conv, true) }))
	require.NoError(t, db.Exec(`INSERT INTO conversation_users (conversation_id, user_id, following) VALUES (?, ?, true)`, s.conv.ID, s.eve.ID).Error)
	return s
}

func (s privateSetup) post(author *models.User, body string, to ...int64) (*models.Message, error) {
	return factory.Write1(s.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(context.Background(), tx, models.Actor{User: author}, s.conv, models.MessagePrivate, body, models.PostOpts{To: to})
	})
}

func names(us []models.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.Email)
	}
	return out
}

// The teammates in a customer conversation: its assignee, who wrote in it,
// who follows it; active support agents only.
func TestConversationTeammates(t *testing.T) {
	t.Parallel()
	s := newPrivateSetup(t)
	ctx := context.Background()
	us, err := models.ConversationTeammates(ctx, s.db, s.conv)
	require.NoError(t, err)
	assert.Equal(t, []string{"ann@example.com", "bob@example.com", "cat@example.com"}, names(us))

	// A deactivated agent is no longer in it.
	require.NoError(t, s.db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", s.cat.ID).Error)
	us, err = models.ConversationTeammates(ctx, s.db, s.conv)
	require.NoError(t, err)
	assert.Equal(t, []string{"ann@example.com", "bob@example.com"}, names(us))
}

// A private message is stored with its recipients, and every reader sees
// what the access rule says: its author and recipients, no other agent, no
// customer; it moves no one's unread state but the recipients'.
func TestPrivateMessageVisibility(t *testing.T) {
	t.Parallel()
	s := newPrivateSetup(t)
	ctx := context.Background()
	before, err := models.FindConversationForCustomer(ctx, s.db, s.cust.ID, s.conv.PublicID)
	require.NoError(t, err)
	for _, u := range []*models.User{s.ann, s.bob, s.cat, s.dan} {
		require.NoError(t, factory.Write(s.db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, u, s.conv) }))
	}

	m, err := s.post(s.ann, "  Bob, the refund is approved  ", s.bob.ID, s.ann.ID)
	require.NoError(t, err)
	assert.Equal(t, models.MessagePrivate, m.Kind)
	assert.Equal(t, "Bob, the refund is approved", m.Body)
	assert.Equal(t, []string{"bob@example.com"}, names(m.Recipients), "the author is not a recipient of their own message")

	after, err := models.FindConversationForCustomer(ctx, s.db, s.cust.ID, s.conv.PublicID)
	require.NoError(t, err)
	assert.Equal(t, before.LastMessageID, after.LastMessageID, "not every agent's news")
	assert.Equal(t, before.LastMessagePreview, after.LastMessagePreview, "never in previews")
	assert.Equal(t, before.LastMessageAt, after.LastMessageAt)

	sees := func(u *models.User) bool {
		p, err := models.ListMessagesFor(ctx, s.db, s.conv, u, 0, models.MessageLimit)
		require.NoError(t, err)
		for _, x := range p.Messages {
			if x.ID == m.ID {
				assert.Equal(t, "bob@example.com", x.RecipientNames())
				return true
			}
		}
		return false
	}
	assert.True(t, sees(s.ann), "author")
	assert.True(t, sees(s.bob), "recipient")
	assert.False(t, sees(s.cat), "a teammate it is not for")
	assert.False(t, sees(s.dan), "an agent outside the conversation")
	for _, forCustomer := range []bool{true, false} {
		all, err := models.ListMessages(ctx, s.db, s.conv, forCustomer)
		require.NoError(t, err)
		for _, x := range all {
			assert.NotEqual(t, m.ID, x.ID, "ListMessages(forCustomer=%v) never lists it", forCustomer)
		}
	}

	// Never in a transcript (every transcript and export reads inTranscript).
	tr, err := models.LoadTranscript(ctx, s.db, s.conv)
	require.NoError(t, err)
	for _, x := range tr.Messages {
		assert.NotEqual(t, m.ID, x.ID, "a transcript never holds it")
	}
	assert.False(t, m.InTranscript())

	// Unread: bob only (row, nav), until he reads it.
	unread := func(u *models.User) (int, bool) {
		row, err := models.InboxRowFor(ctx, s.db, u, s.conv.ID)
		require.NoError(t, err)
		set, err := models.LoadUnreadSet(ctx, s.db, u)
		require.NoError(t, err)
		return row.Unread, set.Customers[s.conv.ID] || set.Mine[s.conv.ID]
	}
	n, nav := unread(s.bob)
	assert.Equal(t, 1, n)
	assert.True(t, nav)
	for _, u := range []*models.User{s.ann, s.cat, s.dan} {
		n, nav := unread(u)
		assert.Zero(t, n, u.Email)
		assert.False(t, nav, u.Email)
	}
	require.NoError(t, factory.Write(s.db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, s.bob, s.conv) }))
	n, nav = unread(s.bob)
	assert.Zero(t, n)
	assert.False(t, nav, "reading the conversation reads the private message")

	// Who hears of it: bob alone.
	e := lastEvent(t, s.db, models.EventMessage)
	require.Equal(t, m.ID, *e.MessageID)
	a, err := models.AudienceOf(ctx, s.db, e)
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Equal(t, []int64{s.bob.ID}, a.UserIDs)

	// The broker's load carries the recipients the streams decide by.
	byID, err := models.MessagesByID(ctx, s.db, []int64{m.ID})
	require.NoError(t, err)
	got := byID[m.ID]
	assert.True(t, got.VisibleToUser(s.ann))
	assert.True(t, got.VisibleToUser(s.bob))
	assert.False(t, got.VisibleToUser(s.cat))
	assert.False(t, got.VisibleToUser(s.dan))
	assert.False(t, got.VisibleToCustomer())
}

// A private message notifies its recipients (marked private) and no one else.
func TestPrivateMessageNotifiesRecipients(t *testing.T) {
	t.Parallel()
	s := newPrivateSetup(t)
	m, err := s.post(s.ann, "Cat and Bob: VIP customer", s.bob.ID, s.cat.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, notifyLast(t, s.db, models.EventMessage))
	for _, u := range []*models.User{s.bob, s.cat} {
		n, list := bell(t, s.db, u)
		require.Equal(t, 1, n, u.Email)
		assert.True(t, list[0].Flag("private"), u.Email)
		require.NotNil(t, list[0].MessageID)
		assert.Equal(t, m.ID, *list[0].MessageID)
	}
	for _, u := range []*models.User{s.ann, s.dan, s.eve} {
		n, _ := bell(t, s.db, u)
		assert.Zero(t, n, u.Email)
	}
}

// Bad input: empty or oversized text, no recipient, a recipient who is not
// in the conversation (an agent outside it, a teammate without customer
// data rights, a deactivated agent, an unknown id), recipients on another
// kind of message, a private message by a customer or in a teammate chat:
// each refused beside its field, and nothing stored.
func TestPrivateMessageRules(t *testing.T) {
	t.Parallel()
	s := newPrivateSetup(t)
	ctx := context.Background()
	gone := mkSupport(t, s.db, "gone@example.com")
	require.NoError(t, factory.Write(s.db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, gone, s.conv, true) }))
	require.NoError(t, s.db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", gone.ID).Error)
	count := func() (n int64) {
		require.NoError(t, s.db.Raw("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM message_recipients)").Scan(&n).Error)
		return n
	}
	start := count()
	many := make([]int64, models.MaxPrivateRecipients+1)
	for i := range many {
		many[i] = int64(1000 + i)
	}
	for _, tc := range []struct {
		name, body, field, code string
		to                      []int64
	}{
		{"empty", "   ", "body", "message_empty", []int64{s.bob.ID}},
		{"oversized", strings.Repeat("x", models.MaxMessageLen+1), "body", "message_too_long", []int64{s.bob.ID}},
		{"no recipient", "hi", "to", "private_to_required", nil},
		{"only oneself", "hi", "to", "private_to_required", []int64{s.ann.ID}},
		{"agent outside", "hi", "to", "private_to_not_in_conversation", []int64{s.bob.ID, s.dan.ID}},
		{"no customer data rights", "hi", "to", "private_to_not_in_conversation", []int64{s.eve.ID}},
		{"deactivated", "hi", "to", "private_to_not_in_conversation", []int64{gone.ID}},
		{"unknown", "hi", "to", "private_to_not_in_conversation", []int64{987654}},
		{"too many", "hi", "to", "private_to_too_many", many},
	} {
		_, err := s.post(s.ann, tc.body, tc.to...)
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), tc.name)
	}
	// Recipients on a reply or a note.
	for _, kind := range []string{models.MessageText, models.MessageNote} {
		_, err := factory.Write1(s.db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessageWithOpts(ctx, tx, models.Actor{User: s.ann}, s.conv, kind, "hi", models.PostOpts{To: []int64{s.bob.ID}})
		})
		assert.Equal(t, "private_to_private_only", fieldCode(t, err, "to"), kind)
	}
	// A customer cannot write one.
	_, err := factory.Write1(s.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{Customer: s.cust}, s.conv, models.MessagePrivate, "hi", models.PostOpts{To: []int64{s.bob.ID}})
	})
	assert.Equal(t, "kind_invalid", fieldCode(t, err, "kind"))
	// Nor is there one in a teammate chat.
	chat, _, err := factory.Write2(s.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, s.ann, []int64{s.bob.ID}, "hey")
	})
	require.NoError(t, err)
	start += 1
	_, err = factory.Write1(s.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(ctx, tx, models.Actor{User: s.ann}, chat, models.MessagePrivate, "hi", models.PostOpts{To: []int64{s.bob.ID}})
	})
	assert.Equal(t, "kind_invalid", fieldCode(t, err, "kind"))
	assert.Equal(t, start, count(), "nothing stored")
}
