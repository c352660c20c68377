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

// Opening a conversation finds its first request in the thread when the
// whole thread is on the page (no statement), and asks the database when it
// is not: both agree with FirstRequest, a deleted first message skipped.
func TestConversationViewFirstRequest(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Name: "Ada", Role: models.RoleAdmin, CustomerSupport: true})
	cust, conv, first := factory.Conversation(t, db, factory.ConversationOpts{Body: "My bike squeaks"})
	post := func(a models.Actor, body string) *models.Message {
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, a, conv, models.MessageText, body)
		})
		require.NoError(t, err)
		return m
	}
	check := func(want string, more bool) {
		t.Helper()
		v, err := models.ConversationViewOf(ctx, db, admin, conv, models.InboxQuery{}, false)
		require.NoError(t, err)
		require.Equal(t, more, v.MoreMessages)
		direct, err := models.FirstRequest(ctx, db, admin, conv)
		require.NoError(t, err)
		assert.Equal(t, want, direct)
		assert.Equal(t, want, v.FirstRequest)
	}
	post(models.Actor{User: admin}, "Try some oil")
	post(models.Actor{Customer: cust}, "It still squeaks")
	check("My bike squeaks", false)

	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.DeleteMessage(ctx, tx, admin, conv, first.ID)
	})
	require.NoError(t, err)
	check("It still squeaks", false)

	for i := range models.MessageLimit {
		post(models.Actor{User: admin}, fmt.Sprint("reply ", i))
	}
	check("It still squeaks", true)
}
