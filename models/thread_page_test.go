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

// TestMessagePages pages a long thread back from its newest page: each
// message comes exactly once and in order, for staff and for the customer,
// and the customer's pages never hold a note.
func TestMessagePages(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := mkUser(t, db, "agent@example.com", models.RoleAgent)
	require.NoError(t, db.Model(agent).Update("customer_support", true).Error)
	agent.CustomerSupport = true
	_, cust := mkCustomer(t, db)

	conv, first, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "m0", models.SessionInfo{})
	})
	require.NoError(t, err)
	all := []int64{first.ID}
	public := []int64{first.ID}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		for i := 1; i < 450; i++ {
			actor, kind := models.Actor{Customer: cust}, models.MessageText
			switch i % 3 {
			case 1:
				actor = models.Actor{User: agent}
			case 2:
				actor, kind = models.Actor{User: agent}, models.MessageNote
			}
			m, err := models.PostMessage(ctx, tx, actor, conv, kind, fmt.Sprintf("m%d", i))
			if err != nil {
				return err
			}
			all = append(all, m.ID)
			if kind != models.MessageNote {
				public = append(public, m.ID)
			}
		}
		return nil
	}))

	walk := func(forCustomer bool, limit int) (ids []int64, pages int) {
		var before int64
		for {
			p, err := models.ListMessagesBefore(ctx, db, conv, forCustomer, before, limit)
			require.NoError(t, err)
			pages++
			require.LessOrEqual(t, len(p.Messages), limit)
			page := []int64{}
			for _, m := range p.Messages {
				if forCustomer {
					require.NotEqual(t, models.MessageNote, m.Kind, "a note on the customer's page: %s", m.Body)
					require.True(t, m.VisibleToCustomer())
				}
				page = append(page, m.ID)
			}
			ids = append(page, ids...)
			if !p.More {
				return ids, pages
			}
			require.NotEmpty(t, p.Messages)
			before = p.Messages[0].ID
		}
	}
	staff, pages := walk(false, models.MessageLimit)
	assert.Equal(t, all, staff, "every message once, oldest first")
	assert.Equal(t, 9, pages, "450 messages in pages of 50")
	odd, _ := walk(false, 7)
	assert.Equal(t, all, odd)
	mine, _ := walk(true, models.MessageLimit)
	assert.Equal(t, public, mine, "every message the customer may see, once, and no note")

	newest, err := models.ListMessages(ctx, db, conv, false)
	require.NoError(t, err)
	assert.Equal(t, all[len(all)-models.MessageLimit:], ids(newest), "a thread opens on its newest page")

	// Before its first message a thread has nothing; a short one has no more.
	p, err := models.ListMessagesBefore(ctx, db, conv, true, first.ID, models.MessageLimit)
	require.NoError(t, err)
	assert.Empty(t, p.Messages)
	assert.False(t, p.More)
}

func ids(ms []models.Message) []int64 {
	out := make([]int64, len(ms))
	for i := range ms {
		out[i] = ms[i].ID
	}
	return out
}
