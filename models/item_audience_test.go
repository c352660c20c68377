package models_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// notifyItemEvents runs the notify rules over the item's own events (not the
// copies addressed to linked conversations) written since event id after.
func notifyItemEvents(t *testing.T, db *gorm.DB, after int64) {
	t.Helper()
	ctx := context.Background()
	var evs []models.Event
	require.NoError(t, db.Where("id > ? AND kind = ? AND conversation_id IS NULL", after, models.EventItem).Order("id").Find(&evs).Error)
	for _, e := range evs {
		auds, err := models.AudiencesOf(ctx, db, e)
		require.NoError(t, err)
		for _, a := range auds {
			_, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, e, a) })
			require.NoError(t, err)
			_, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, e, a) }) // a retried job adds nothing
			require.NoError(t, err)
		}
	}
}

func lastEventID(t *testing.T, db *gorm.DB) int64 {
	var id int64
	require.NoError(t, db.Raw("SELECT COALESCE(max(id), 0) FROM events").Scan(&id).Error)
	return id
}

// Item notifications: the assignee hears of an assignment, followers of
// changes; nobody of their own action; tickets only reach support agents.
func TestItemNotifications(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	bob := mkSupport(t, db, "bob@example.com")
	cat := mkSupport(t, db, "cat@example.com")
	dan := mkUser(t, db, "dan@example.com", models.RoleAgent) // no support flag: no tickets

	mark := lastEventID(t, db)
	ticket, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, ann, models.ItemInput{Kind: models.ItemTicket, Title: "Refund order 42", Assignee: strconv.FormatInt(bob.ID, 10)})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, cat, ticket, true) }))
	notifyItemEvents(t, db, mark)

	bell := func(u *models.User) []models.Notification {
		ns, err := models.ListNotifications(ctx, db, u, 0, 50)
		require.NoError(t, err)
		return ns
	}
	require.Len(t, bell(bob), 1)
	require.Equal(t, models.ReasonItemAssigned, bell(bob)[0].Reason)
	require.Equal(t, ticket.Ref(), bell(bob)[0].Text("ref"))
	require.Empty(t, bell(ann), "not told of her own action")
	require.Empty(t, bell(cat), "following tells nobody")

	// Bob changes the status: Cat (following) hears, Bob doesn't.
	mark = lastEventID(t, db)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, bob, ticket, models.FieldStatus, "in_progress")
	}))
	notifyItemEvents(t, db, mark)
	require.Len(t, bell(cat), 1)
	require.Equal(t, models.ReasonItemChanged, bell(cat)[0].Reason)
	require.Equal(t, models.FieldStatus, bell(cat)[0].Text("field"))
	require.Len(t, bell(bob), 1)

	// Reassigned to Cat, who follows: told once, as the assignee.
	mark = lastEventID(t, db)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, ann, ticket, models.FieldAssignee, strconv.FormatInt(cat.ID, 10))
	}))
	notifyItemEvents(t, db, mark)
	require.Len(t, bell(cat), 2)
	require.Equal(t, models.ReasonItemAssigned, bell(cat)[0].Reason)

	// A task followed by an agent without the support flag reaches them; a
	// ticket never does.
	task, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, ann, models.ItemInput{Kind: models.ItemTask, Title: "Call the carrier"})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, dan, task, true) }))
	mark = lastEventID(t, db)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateItem(ctx, tx, ann, task, models.FieldPriority, "urgent") }))
	require.NoError(t, db.Exec("INSERT INTO item_followers (item_id, user_id) VALUES (?, ?)", ticket.ID, dan.ID).Error)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateItem(ctx, tx, ann, ticket, models.FieldPriority, "high") }))
	notifyItemEvents(t, db, mark)
	require.Len(t, bell(dan), 1)
	require.Equal(t, task.Ref(), bell(dan)[0].Text("ref"))
}
