package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Several items on one conversation: a ticket and then a task made from
// it, both linked; the panel shows each (in the order linked) to whoever
// may see it, being involved in any keeps the conversation in My
// conversations, and unlinking one touches only that one's link and people.
func TestConversationWithSeveralItems(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	ann := mkSupport(t, db, "ann@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	_, conv := mkConversation(t, db, "Two problems: a refund and a broken link")
	create := func(kind, title string, assignee *models.User) *models.Item {
		t.Helper()
		it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
			return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: kind, Title: title, Assignee: fmt.Sprint(assignee.ID), Conversation: conv})
		})
		require.NoError(t, err)
		return it
	}
	ticket := create(models.ItemTicket, "Refund", ann)
	task := create(models.ItemTask, "Fix the link", plain)
	ids, err := models.ConversationItemIDs(ctx, db, conv.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{ticket.ID, task.ID}, ids)
	assert.Equal(t, int64(2), count(t, db, "SELECT count(*) FROM events WHERE kind = 'item' AND conversation_id = ?", conv.ID),
		"each link announced to the conversation's panel")

	refs := func(u *models.User) (out []string) {
		t.Helper()
		panels, err := models.ConversationItems(ctx, db, u, conv, nil)
		require.NoError(t, err)
		keys := map[string]bool{}
		for _, p := range panels {
			out = append(out, p.Item.Ref())
			assert.False(t, keys[p.Key], "element ids apart")
			keys[p.Key] = true
		}
		return out
	}
	assert.Equal(t, []string{"T-1", "K-1"}, refs(me))
	assert.Equal(t, []string{"K-1"}, refs(plain), "no ticket for an agent without the support flag")

	isMine := func(u *models.User) bool {
		t.Helper()
		mine, err := models.IsMine(ctx, db, u, conv.ID)
		require.NoError(t, err)
		return mine
	}
	assert.True(t, isMine(ann))
	assert.True(t, isMine(plain))

	// Someone who may not see the ticket can neither unlink it nor link it.
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, plain, conv, ticket) }), models.ErrNotFound)
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, plain, ticket, conv) }), models.ErrNotFound)

	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, me, conv, ticket) }))
	assert.Equal(t, []string{"K-1"}, refs(me))
	assert.False(t, isMine(ann), "involved only in the unlinked ticket")
	assert.True(t, isMine(plain), "still the task's assignee")
	assert.True(t, isMine(me), "created the task too")

	// With the task gone too, an agent without the support flag sees none
	// of the conversation's items even once the ticket is back.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, me, conv, task) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, ticket, conv) }))
	assert.Empty(t, refs(plain))
	assert.Equal(t, []string{"T-1"}, refs(me))
	assert.False(t, isMine(plain))
	assert.True(t, isMine(ann))
}

// The limit per conversation holds for links as for creations, and a
// refused link stores nothing.
func TestConversationItemLimit(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	_, conv := mkConversation(t, db, "many things")
	for i := range models.MaxConversationItems {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
			return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: fmt.Sprint("task ", i), Conversation: conv})
		})
		require.NoError(t, err)
	}
	extra, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: "one too many"})
	})
	require.NoError(t, err)
	assert.Equal(t, "item_conversation_too_many", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, extra, conv) }), "conversation"))
	assert.Equal(t, int64(models.MaxConversationItems), count(t, db, "SELECT count(*) FROM conversation_items WHERE conversation_id = ?", conv.ID))
}
