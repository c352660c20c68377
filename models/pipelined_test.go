package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Pipelined reads scan rows as GORM does: real conversations and items,
// NULLs and all, come out equal to GORM's reading of the same statement;
// several statements answer in order from one round trip.
func TestPipelinedReadsScanAsGORM(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	_, first, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "first"})
	_, _, _ = factory.Conversation(t, db, factory.ConversationOpts{Body: "second"})
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Refund", Conversation: first})
	})
	require.NoError(t, err)

	convs, err := models.ReadPipelined[models.Conversation](ctx, db,
		[]any{"SELECT * FROM conversations ORDER BY id"},
		[]any{"SELECT * FROM conversations WHERE id = $1", first.ID})
	require.NoError(t, err)
	var want []models.Conversation
	require.NoError(t, db.Raw("SELECT * FROM conversations ORDER BY id").Scan(&want).Error)
	require.Len(t, convs[0], 2)
	assert.Equal(t, want, convs[0])
	require.Len(t, convs[1], 1)
	assert.Equal(t, first.ID, convs[1][0].ID)

	items, err := models.ReadPipelined[models.Item](ctx, db, []any{"SELECT * FROM items"})
	require.NoError(t, err)
	var wantItems []models.Item
	require.NoError(t, db.Raw("SELECT * FROM items").Scan(&wantItems).Error)
	require.Len(t, items[0], 1)
	assert.Equal(t, wantItems, items[0])

	// A column without a field is skipped; NULL leaves a string or a time
	// at its zero value and a pointer nil; an embedded struct's fields are
	// filled, the outer field winning a name both have.
	type row struct {
		models.Conversation
		Subject string // shadows Conversation.Subject
		Extra   *string
	}
	rows, err := models.ReadPipelined[row](ctx, db, []any{`SELECT 7::bigint AS id, NULL::text AS subject, NULL::timestamptz AS created_at,
		NULL::bigint AS assignee_id, 'x' AS no_such_field, 'e' AS extra, 'win' AS subject`})
	require.NoError(t, err)
	require.Len(t, rows[0], 1)
	r := rows[0][0]
	assert.EqualValues(t, 7, r.ID)
	assert.Equal(t, "win", r.Subject)
	assert.Empty(t, r.Conversation.Subject)
	assert.True(t, r.CreatedAt.IsZero())
	assert.Nil(t, r.AssigneeID)
	require.NotNil(t, r.Extra)
	assert.Equal(t, "e", *r.Extra)

	// A failing statement fails the whole read.
	_, err = models.ReadPipelined[row](ctx, db, []any{"SELECT 1 AS id"}, []any{"SELECT * FROM no_such_table"})
	require.Error(t, err)
}
