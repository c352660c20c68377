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

func mkCustomer(t *testing.T, db *gorm.DB) (*models.Visitor, *models.Customer) {
	t.Helper()
	return factory.Customer(t, db)
}

func countEvents(t *testing.T, db *gorm.DB, kind string) int64 {
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM events WHERE kind = ?", kind).Scan(&n).Error)
	return n
}

func TestConversationLifecycle(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := mkUser(t, db, "agent@example.com", models.RoleAgent)
	agent.CustomerSupport = true
	require.NoError(t, db.Model(agent).Update("customer_support", true).Error)
	_, cust := mkCustomer(t, db)

	conv, first, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "  Hello, my order is late  ", models.SessionInfo{PageURL: "https://shop.example/cart", Browser: "Firefox"})
	})
	require.NoError(t, err)
	assert.Len(t, conv.PublicID, 36)
	assert.Equal(t, "Hello, my order is late", first.Body)
	assert.Equal(t, models.StatusOpen, conv.Status)

	found, err := models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
	require.NoError(t, err)
	require.NotNil(t, found.WaitingSince, "the customer is waiting")
	assert.Equal(t, "https://shop.example/cart", found.PageURL)

	// The agent's reply stops the wait and counts as read for them.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, found, models.MessageText, "Let me check")
	})
	require.NoError(t, err)
	note, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, found, models.MessageNote, "Carrier says Tuesday")
	})
	require.NoError(t, err)
	found, _ = models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
	assert.Nil(t, found.WaitingSince)
	assert.Equal(t, "Let me check", found.LastMessagePreview, "notes do not change the preview")
	assert.Equal(t, note.ID, found.LastMessageID)

	// Close, then the customer writes: reopened with a status line first.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, agent, found, models.StatusClosed) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, agent, found, models.StatusClosed) }), "closing twice is a no-op")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, found, models.MessageText, "Any news?")
	})
	require.NoError(t, err)
	found, _ = models.FindConversationForCustomer(ctx, db, cust.ID, conv.PublicID)
	assert.Equal(t, models.StatusOpen, found.Status)
	assert.Nil(t, found.ClosedAt)

	staff, err := models.ListMessages(ctx, db, found, false)
	require.NoError(t, err)
	var kinds []string
	for _, m := range staff {
		kinds = append(kinds, m.Kind+":"+m.Event)
	}
	assert.Equal(t, []string{"message:", "message:", "note:", "system:closed", "system:reopened_by_customer", "message:"}, kinds)

	// The customer sees no note.
	mine, err := models.ListMessages(ctx, db, found, true)
	require.NoError(t, err)
	for _, m := range mine {
		assert.NotEqual(t, models.MessageNote, m.Kind)
		assert.NotContains(t, m.Body, "Carrier")
	}
	assert.Len(t, mine, 5)

	// Every change left its durable event.
	assert.EqualValues(t, 6, countEvents(t, db, models.EventMessage))
	assert.EqualValues(t, 3, countEvents(t, db, models.EventConversation), "created, closed, reopened")
}

func TestCustomersCannotReachOthersOrInternal(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	a := mkUser(t, db, "a@example.com", models.RoleAgent)
	b := mkUser(t, db, "b@example.com", models.RoleAgent)
	_, alice := mkCustomer(t, db)
	_, bob := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, alice, "Alice here", models.SessionInfo{})
	})
	require.NoError(t, err)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, a, []int64{b.ID}, "Team only")
	})
	require.NoError(t, err)

	_, err = models.FindConversationForCustomer(ctx, db, bob.ID, conv.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.FindConversationForCustomer(ctx, db, alice.ID, internal.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.FindConversationForCustomer(ctx, db, alice.ID, "00000000-0000-0000-0000-000000000000")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.FindConversationForCustomer(ctx, db, alice.ID, "not-a-uuid")
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: bob}, conv, models.MessageText, "intrusion")
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: alice}, internal, models.MessageText, "intrusion")
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: alice}, conv, models.MessageNote, "customers cannot write notes")
	})
	require.Error(t, err)
}

func TestStaffVisibility(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	support := mkUser(t, db, "s@example.com", models.RoleAgent)
	require.NoError(t, db.Model(support).Update("customer_support", true).Error)
	support.CustomerSupport = true
	plain := mkUser(t, db, "p@example.com", models.RoleAgent) // no customer-support flag
	other := mkUser(t, db, "o@example.com", models.RoleAgent)
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "Help", models.SessionInfo{})
	})
	require.NoError(t, err)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, plain, []int64{support.ID}, "Lunch?")
	})
	require.NoError(t, err)

	_, err = models.FindConversationForUser(ctx, db, support, conv.PublicID)
	require.NoError(t, err)
	_, err = models.FindConversationForUser(ctx, db, plain, conv.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound, "no support flag, no customer conversations")
	_, err = models.FindConversationForUser(ctx, db, other, internal.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound, "not a member")
	_, err = models.FindConversationForUser(ctx, db, support, internal.PublicID)
	require.NoError(t, err)

	rows, err := models.ListInbox(ctx, db, models.InboxQuery{Viewer: plain, Section: models.SectionCustomers, Status: models.StatusOpen})
	require.NoError(t, err)
	assert.Empty(t, rows)
	rows, err = models.ListInbox(ctx, db, models.InboxQuery{Viewer: support, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterUnassigned})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, 1, rows[0].Unread)
	rows, err = models.ListInbox(ctx, db, models.InboxQuery{Viewer: other, Section: models.SectionMine, Status: models.StatusOpen})
	require.NoError(t, err)
	assert.Empty(t, rows)
	rows, err = models.ListInbox(ctx, db, models.InboxQuery{Viewer: support, Section: models.SectionMine, Status: models.StatusOpen})
	require.NoError(t, err)
	require.Len(t, rows, 1, "the internal conversation")
	assert.Equal(t, internal.ID, rows[0].ID)
}

func TestUnreadAndMarkRead(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	a := mkUser(t, db, "a@example.com", models.RoleAgent)
	b := mkUser(t, db, "b@example.com", models.RoleAgent)
	require.NoError(t, db.Exec("UPDATE users SET customer_support = true").Error)
	a.CustomerSupport, b.CustomerSupport = true, true
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "one", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "two")
	})
	require.NoError(t, err)

	s, err := models.CountUnread(ctx, db, a)
	require.NoError(t, err)
	assert.Equal(t, models.UnreadSummary{Customers: 1, Total: 1}, s)
	rows, _ := models.ListInbox(ctx, db, models.InboxQuery{Viewer: a, Section: models.SectionCustomers, Status: models.StatusOpen})
	require.Len(t, rows, 1)
	assert.Equal(t, 2, rows[0].Unread)

	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, a, conv) }))
	s, _ = models.CountUnread(ctx, db, a)
	assert.Zero(t, s.Customers)
	assert.EqualValues(t, 1, countEvents(t, db, models.EventRead))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, a, conv) }))
	assert.EqualValues(t, 1, countEvents(t, db, models.EventRead), "nothing new read: no event")

	// b replies: unread for a (b's reply), not for b; it is now in b's Mine.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: b}, conv, models.MessageText, "on it")
	})
	require.NoError(t, err)
	sa, _ := models.CountUnread(ctx, db, a)
	sb, _ := models.CountUnread(ctx, db, b)
	assert.Equal(t, 1, sa.Customers)
	assert.Equal(t, models.UnreadSummary{}, sb)
	mine, err := models.IsMine(ctx, db, b, conv.ID)
	require.NoError(t, err)
	assert.True(t, mine)

	// Assigning puts it in the assignee's Mine, with a staff-only status line.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, b, conv, &a.ID) }))
	mine, _ = models.IsMine(ctx, db, a, conv.ID)
	assert.True(t, mine)
	forCustomer, _ := models.ListMessages(ctx, db, conv, true)
	for _, m := range forCustomer {
		assert.NotEqual(t, models.SysAssigned, m.Event)
	}
	other := mkUser(t, db, "c@example.com", models.RoleAgent) // no support flag
	err = factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, b, conv, &other.ID) })
	assert.Equal(t, "assignee_invalid", fieldCode(t, err, "assignee_id"))
}

func TestMessageLimits(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, cust := mkCustomer(t, db)
	_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "   \n ", models.SessionInfo{})
	})
	assert.Equal(t, "message_empty", fieldCode(t, err, "body"))
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, strings.Repeat("é", models.MaxMessageLen+1), models.SessionInfo{})
	})
	assert.Equal(t, "message_too_long", fieldCode(t, err, "body"))
	var n int64
	db.Raw("SELECT count(*) FROM conversations").Scan(&n)
	assert.Zero(t, n, "nothing half-written")
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, strings.Repeat("é", models.MaxMessageLen), models.SessionInfo{})
	})
	require.NoError(t, err, "exactly the limit is fine")
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	require.NotEmpty(t, settings.WidgetSecret)

	// Laptop: anonymous, starts a conversation, then signs in on the host site.
	laptop, anon := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, anon, "before sign-in", models.SessionInfo{})
	})
	require.NoError(t, err)
	sig := models.IdentitySignature(settings.WidgetSecret, "user-42", "jo@example.com")
	c, err := models.IdentifyVisitor(ctx, db, laptop, models.Identity{ExternalID: "user-42", Email: "Jo@Example.com", Name: "Jo", Signature: sig})
	require.NoError(t, err)
	assert.True(t, c.Verified)
	_, err = models.FindConversationForCustomer(ctx, db, c.ID, conv.PublicID)
	require.NoError(t, err, "the anonymous history follows the sign-in")

	// Phone: the same signed identity reaches the same customer.
	phone, _ := mkCustomer(t, db)
	c2, err := models.IdentifyVisitor(ctx, db, phone, models.Identity{ExternalID: "user-42", Email: "jo@example.com", Signature: sig})
	require.NoError(t, err)
	assert.Equal(t, c.ID, c2.ID)

	// A forged signature or an unsigned claim never reaches that customer.
	attacker, own := mkCustomer(t, db)
	c3, err := models.IdentifyVisitor(ctx, db, attacker, models.Identity{ExternalID: "user-42", Email: "jo@example.com", Signature: strings.Repeat("0", 64)})
	require.NoError(t, err)
	assert.Equal(t, own.ID, c3.ID)
	assert.False(t, c3.Verified)
	c4, err := models.IdentifyVisitor(ctx, db, attacker, models.Identity{Email: "jo@example.com", Name: "Jo"})
	require.NoError(t, err)
	assert.Equal(t, own.ID, c4.ID, "unsigned data stays on the visitor's own customer")
	assert.Equal(t, "jo@example.com", c4.Email)
	_, err = models.FindConversationForCustomer(ctx, db, c4.ID, conv.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound)

	// With signed identity required, unsigned visitors are refused.
	require.NoError(t, db.Exec("UPDATE desk_settings SET require_signed_identity = true").Error)
	_, err = models.IdentifyVisitor(ctx, db, attacker, models.Identity{Email: "x@example.com"})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
}

// The live desk keeps unread counts incrementally; after any sequence of
// changes applied through Update they equal a full recount.
func TestUnreadSetTracksCountUnread(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkUser(t, db, "me@example.com", models.RoleAgent)
	other := mkUser(t, db, "o@example.com", models.RoleAgent)
	require.NoError(t, db.Exec("UPDATE users SET customer_support = true").Error)
	me.CustomerSupport, other.CustomerSupport = true, true

	set, err := models.LoadUnreadSet(ctx, db, me)
	require.NoError(t, err)
	check := func(ids ...int64) {
		t.Helper()
		rows, err := models.LiveRows(ctx, db, me, ids)
		require.NoError(t, err)
		for _, id := range ids {
			set.Update(me, id, rows[id])
		}
		want, err := models.CountUnread(ctx, db, me)
		require.NoError(t, err)
		assert.Equal(t, want, set.Summary())
	}
	var convs []*models.Conversation
	for range 3 {
		_, cust := mkCustomer(t, db)
		c, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		convs = append(convs, c)
		check(c.ID)
	}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MarkRead(ctx, tx, me, convs[0]) }))
	check(convs[0].ID)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: other}, convs[1], models.MessageText, "hi")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, other, convs[1], &me.ID) }))
	check(convs[1].ID)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, other, convs[2], models.StatusClosed) }))
	check(convs[2].ID)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, other, []int64{me.ID}, "psst")
	})
	require.NoError(t, err)
	check(internal.ID)
	assert.Equal(t, models.UnreadSummary{Customers: 1, Mine: 2, Total: 2}, set.Summary())
}
