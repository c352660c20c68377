package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The reads of live delivery and of every write bring a conversation's
// customer and assignee, and a message's author, whole (but a user's
// password hash), and nothing where there is none.
func TestConversationAndMessageReadsBringTheirPeople(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := mkSupport(t, db, "ana@example.com")
	v, cust := mkCustomer(t, db)
	conv, first, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, unassigned := mkConversation(t, db, "nobody's")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, agent, conv, &agent.ID) }))
	reply, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "hi")
	})
	require.NoError(t, err)

	var wantCustomer models.Customer
	require.NoError(t, db.First(&wantCustomer, cust.ID).Error)
	var wantAgent models.User
	require.NoError(t, db.First(&wantAgent, agent.ID).Error)
	require.NotEmpty(t, wantAgent.PasswordHash)
	wantAgent.PasswordHash = ""

	_, convs, err := models.MessagesAndConversations(ctx, db, nil, []int64{conv.ID, unassigned.ID})
	require.NoError(t, err)
	require.Len(t, convs, 2)
	got := convs[conv.ID]
	require.NotNil(t, got.Customer)
	require.NotNil(t, got.Assignee)
	assert.Equal(t, wantCustomer, *got.Customer)
	assert.Equal(t, wantAgent, *got.Assignee, "the assignee whole, without the password hash")
	assert.Equal(t, conv.PublicID, got.PublicID)
	assert.Nil(t, convs[unassigned.ID].Assignee, "no assignee: none")

	found, err := models.FindConversationForUser(ctx, db, agent, conv.PublicID)
	require.NoError(t, err)
	assert.Equal(t, got, found, "the scoped lookup reads the same")
	seen, err := models.FindConversationForVisitor(ctx, db, v, conv.PublicID)
	require.NoError(t, err)
	assert.Equal(t, wantCustomer, *seen.Customer)
	_, err = models.FindConversationForVisitor(ctx, db, v, unassigned.PublicID)
	require.ErrorIs(t, err, models.ErrNotFound, "another customer's")

	msgs, err := models.MessagesByID(ctx, db, []int64{first.ID, reply.ID})
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	assert.Nil(t, msgs[first.ID].AuthorUser)
	require.NotNil(t, msgs[first.ID].AuthorCustomer)
	assert.Equal(t, wantCustomer, *msgs[first.ID].AuthorCustomer)
	assert.Nil(t, msgs[reply.ID].AuthorCustomer)
	require.NotNil(t, msgs[reply.ID].AuthorUser)
	assert.Equal(t, wantAgent, *msgs[reply.ID].AuthorUser)
}
