package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestNormalizeCustomerPhone(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"":                     "",
		"  ":                   "",
		"+33 6 12 34 56 78":    "+33612345678",
		"0033 (6) 12-34-56.78": "+33612345678",
		"(555) 123-4567":       "5551234567",
		"+55 11 91234/5678":    "+5511912345678",
	} {
		got, ok := models.NormalizeCustomerPhone(raw)
		assert.True(t, ok, raw)
		assert.Equal(t, want, got, raw)
	}
	for _, bad := range []string{"12345", "+1234567890123456", "call me", "555-CALL-NOW", "12+3456789", "++33612345678", "+", "<b>0612345678</b>"} {
		_, ok := models.NormalizeCustomerPhone(bad)
		assert.False(t, ok, bad)
	}
}

// The context panel lists the customer's other conversations (not this one,
// not another customer's), the tickets they requested and the items of
// their conversations, for support staff only; ten of each, with "more".
func TestLoadCustomerContext(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	pat := factory.User(t, db, factory.UserOpts{Name: "Pat"})
	cust, first, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "first"})
	_, second, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust, Body: "second"})
	_, other, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "someone else"})
	ticket, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Refund", Conversation: first})
	})
	require.NoError(t, err)
	task, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, sam, models.ItemInput{Kind: models.ItemTask, Title: "Call back", Conversation: second})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Not theirs", Conversation: other})
	})
	require.NoError(t, err)

	cc, err := models.LoadCustomerContext(ctx, db, sam, second)
	require.NoError(t, err)
	assert.Equal(t, cust.ID, cc.Customer.ID)
	require.Len(t, cc.Conversations, 1)
	assert.Equal(t, first.ID, cc.Conversations[0].ID)
	assert.False(t, cc.MoreConversations)
	var ids []int64
	for _, it := range cc.Items {
		ids = append(ids, it.ID)
	}
	assert.ElementsMatch(t, []int64{ticket.ID, task.ID}, ids)

	_, err = models.LoadCustomerContext(ctx, db, pat, second)
	assert.ErrorIs(t, err, models.ErrNotFound, "no customer data rights, no panel")

	// The conversation page's: the customer as the lookup joined it.
	found, err := models.FindConversationForUser(ctx, db, sam, second.PublicID)
	require.NoError(t, err)
	require.NotNil(t, found.Customer)
	page, err := models.ConversationViewOf(ctx, db, sam, found, models.InboxQuery{}, false)
	require.NoError(t, err)
	of := page.Context
	require.NotNil(t, of)
	assert.Same(t, found.Customer, of.Customer, "not read again")
	assert.Equal(t, cc.Customer.Name, of.Customer.Name)
	assert.Equal(t, cc.Conversations[0].ID, of.Conversations[0].ID)
	assert.Len(t, of.Items, len(cc.Items))

	for range models.ContextLimit + 1 {
		factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	}
	cc, err = models.LoadCustomerContext(ctx, db, sam, first)
	require.NoError(t, err)
	assert.Len(t, cc.Conversations, models.ContextLimit)
	assert.True(t, cc.MoreConversations)
	assert.NotEqual(t, second.ID, cc.Conversations[0].ID, "newest first")
}

// Staff edit a customer: fields are normalised, each change is one audit row
// (field, old, new, who), bad input stores nothing, and only support staff
// may.
func TestUpdateCustomer(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	pat := factory.User(t, db, factory.UserOpts{Name: "Pat"})
	_, cust := factory.Customer(t, db)
	update := func(u *models.User, in models.CustomerEdit) (*models.Customer, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.Customer, error) {
			return models.UpdateCustomer(ctx, tx, u, cust.ID, in)
		})
	}
	changes := func() []models.CustomerChange {
		var cs []models.CustomerChange
		require.NoError(t, db.Where("customer_id = ?", cust.ID).Order("id").Find(&cs).Error)
		return cs
	}

	c, err := update(sam, models.CustomerEdit{Name: " Chloé ", Email: "Chloe@Example.com", Phone: "+33 6 12 34 56 78", Notes: "Prefers email.\r\nVIP"})
	require.NoError(t, err)
	assert.Equal(t, "Chloé", c.Name)
	assert.Equal(t, "chloe@example.com", c.Email)
	assert.Equal(t, "+33612345678", c.Phone)
	assert.Equal(t, "Prefers email.\nVIP", c.Notes)
	cs := changes()
	require.Len(t, cs, 4)
	assert.Equal(t, "name", cs[0].Field)
	assert.Equal(t, "", cs[0].OldValue)
	assert.Equal(t, "Chloé", cs[0].NewValue)
	assert.Equal(t, "Sam", cs[0].ActorName)
	assert.Equal(t, sam.ID, *cs[0].ActorID)

	// Only what changed is audited; the same values again change nothing.
	_, err = update(sam, models.CustomerEdit{Name: "Chloé Martin", Email: "chloe@example.com", Phone: "0033612345678", Notes: "Prefers email.\nVIP"})
	require.NoError(t, err)
	cs = changes()
	require.Len(t, cs, 5)
	assert.Equal(t, "name", cs[4].Field)
	assert.Equal(t, "Chloé", cs[4].OldValue)
	assert.Equal(t, "Chloé Martin", cs[4].NewValue)

	// Bad input: every problem beside its field, nothing stored.
	_, err = update(sam, models.CustomerEdit{Name: strings.Repeat("x", 101), Email: "not-an-email", Phone: "call me", Notes: strings.Repeat("n", models.CustomerNotesMax+1)})
	var ve *models.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	for _, f := range []string{"name", "email", "phone", "notes"} {
		_, ok := ve.Field(f)
		assert.True(t, ok, f)
	}
	assert.Len(t, changes(), 5)
	var now models.Customer
	require.NoError(t, db.Take(&now, cust.ID).Error)
	assert.Equal(t, "Chloé Martin", now.Name)

	// Staff without customer data rights: not found, nothing stored.
	_, err = update(pat, models.CustomerEdit{Name: "Mallory"})
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Customer, error) {
		return models.UpdateCustomer(ctx, tx, sam, 1<<40, models.CustomerEdit{Name: "Ghost"})
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.Len(t, changes(), 5)
}
