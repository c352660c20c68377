package models_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// audienceOfLast returns the audience of the newest event of kind.
func audienceOfLast(t *testing.T, db *gorm.DB, kind string) *models.Audience {
	t.Helper()
	var e models.Event
	require.NoError(t, db.Where("kind = ?", kind).Order("id DESC").Take(&e).Error)
	a, err := models.AudienceOf(context.Background(), db, e)
	require.NoError(t, err)
	return a
}

func TestAudienceOf(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	cat := mkUser(t, db, "cat@example.com", models.RoleAgent) // no customer-support flag
	_, cust := mkCustomer(t, db)

	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	a := audienceOfLast(t, db, models.EventConversation)
	require.Equal(t, models.ReasonNewConversation, a.Reason)
	require.Equal(t, []int64{ann.ID, bob.ID}, a.UserIDs, "support agents only")
	require.Nil(t, audienceOfLast(t, db, models.EventMessage), "nobody is in the conversation yet")

	// Assigning to oneself tells nobody; to someone else tells them.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv, &ann.ID) }))
	require.Nil(t, audienceOfLast(t, db, models.EventConversation))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv, &bob.ID) }))
	a = audienceOfLast(t, db, models.EventConversation)
	require.Equal(t, models.ReasonAssigned, a.Reason)
	require.Equal(t, []int64{bob.ID}, a.UserIDs)

	// Ann writes; the customer answers: the assignee (Bob) and Ann hear of it.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ann}, conv, models.MessageText, "hi")
	})
	require.NoError(t, err)
	require.Equal(t, []int64{bob.ID}, audienceOfLast(t, db, models.EventMessage).UserIDs, "not the author")
	m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, conv, models.MessageText, "thanks")
	})
	require.NoError(t, err)
	a = audienceOfLast(t, db, models.EventMessage)
	require.Equal(t, models.ReasonMessage, a.Reason)
	require.Equal(t, m.ID, a.MessageID)
	require.Equal(t, []int64{ann.ID, bob.ID}, a.UserIDs)

	// Status lines concern nobody.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, ann, conv, models.StatusClosed) }))
	require.Nil(t, audienceOfLast(t, db, models.EventMessage))

	// A teammate chat: the other members, whatever their flag.
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ann, []int64{cat.ID}, "psst")
	})
	require.NoError(t, err)
	require.Equal(t, []int64{cat.ID}, audienceOfLast(t, db, models.EventMessage).UserIDs)
}
