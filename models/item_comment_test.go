package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A comment joins the item's history; "@Full Name" mentions active staff
// who may see the item (not the author, not an agent without the support
// flag on a ticket, not a deactivated one; the longer name wins), who are
// notified; followers hear of it too, once. Bad input stores nothing.
func TestCommentOnItemWithMentions(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := factory.User(t, db, factory.UserOpts{Name: "Ann", CustomerSupport: true})
	annLee := factory.User(t, db, factory.UserOpts{Name: "Ann Lee", CustomerSupport: true})
	bob := factory.User(t, db, factory.UserOpts{Name: "Bob Backup", CustomerSupport: true})
	nat := factory.User(t, db, factory.UserOpts{Name: "Nat", CustomerSupport: false})
	gone := factory.User(t, db, factory.UserOpts{Name: "Gus Gone", CustomerSupport: true})
	follower := factory.User(t, db, factory.UserOpts{Name: "Fay", CustomerSupport: true})
	require.NoError(t, db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", gone.ID).Error)
	ticket, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, ann, models.ItemInput{Kind: models.ItemTicket, Title: "Refund"})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetItemFollowing(ctx, tx, follower, ticket, true)
	}))
	comment := func(u *models.User, body string) (*models.ItemActivity, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.ItemActivity, error) {
			return models.CommentOnItem(ctx, tx, u, ticket, body)
		})
	}

	_, err = comment(ann, "   ")
	assert.Equal(t, "comment_required", fieldCode(t, err, "body"))
	_, err = comment(ann, strings.Repeat("é", models.MaxCommentChars+1))
	assert.Equal(t, "comment_too_long", fieldCode(t, err, "body"))
	var n int
	require.NoError(t, db.Raw("SELECT count(*) FROM item_activities WHERE field = 'comment'").Scan(&n).Error)
	assert.Zero(t, n, "nothing stored")

	act, err := comment(ann, "  @ann lee and @BOB BACKUP, please check. @Nat @Gus Gone @Ann @Bobby  ")
	require.NoError(t, err)
	assert.Equal(t, "@ann lee and @BOB BACKUP, please check. @Nat @Gus Gone @Ann @Bobby", act.NewValue)
	var mentioned []int64
	require.NoError(t, db.Raw("SELECT user_id FROM item_mentions WHERE activity_id = ? ORDER BY user_id", act.ID).Scan(&mentioned).Error)
	want := []int64{annLee.ID, bob.ID}
	assert.ElementsMatch(t, want, mentioned, "not the author (Ann), not Nat (no tickets), not Gus (deactivated), not Bobby (nobody)")

	v, err := models.OpenItem(ctx, db, ann, ticket.Kind, ticket.Number)
	require.NoError(t, err)
	last := v.Activities[len(v.Activities)-1]
	assert.Equal(t, models.FieldComment, last.Field)
	assert.Equal(t, act.NewValue, last.NewValue)

	var ev models.Event
	require.NoError(t, db.Where("kind = ? AND item_id = ? AND conversation_id IS NULL", models.EventItem, ticket.ID).Order("id DESC").Take(&ev).Error)
	auds, err := models.AudiencesOf(ctx, db, ev)
	require.NoError(t, err)
	require.Len(t, auds, 2)
	assert.Equal(t, models.ReasonMentioned, auds[0].Reason)
	assert.ElementsMatch(t, want, auds[0].UserIDs)
	assert.Equal(t, models.ReasonItemChanged, auds[1].Reason)
	assert.Equal(t, []int64{follower.ID}, auds[1].UserIDs, "followers, except those mentioned and the author")
	for range 2 { // a retried job adds nothing
		for _, a := range auds {
			_, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, ev, a) })
			require.NoError(t, err)
		}
	}
	var rows []struct {
		UserID  int64
		Reason  string
		Preview string
	}
	require.NoError(t, db.Raw("SELECT user_id, reason, data->>'preview' AS preview FROM notifications ORDER BY user_id").Scan(&rows).Error)
	require.Len(t, rows, 3)
	for _, r := range rows {
		assert.Contains(t, r.Preview, "please check")
	}
	_ = nat
}
