package models_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Each access rule's Go predicate and its SQL condition answer alike for
// every (viewer, conversation), (user, item) and (conversation, message)
// pair of a generated population: users of both roles with and without the
// support flag, active or not; customers; customer and internal
// conversations with members, followers and writers; visitors scoped or
// not; tickets and tasks; messages, notes and status lines; who may join
// a conversation as a participant.
func TestAccessGoAndSQLAgree(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))

	var users []*models.User
	for i := range 8 {
		role := models.RoleAgent
		if i%4 == 0 {
			role = models.RoleAdmin
		}
		u, err := models.CreateUser(ctx, db, models.UserInput{Name: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.com", i),
			Password: "correct horse", Role: role, CustomerSupport: i%2 == 1})
		require.NoError(t, err)
		if i >= 6 {
			require.NoError(t, db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", u.ID).Error)
			u.Active = false
		}
		users = append(users, u)
	}
	var customers []int64
	for range 3 {
		var id int64
		require.NoError(t, db.Raw("INSERT INTO customers (name) VALUES ('c') RETURNING id").Scan(&id).Error)
		customers = append(customers, id)
	}
	var convs []*models.Conversation
	member := map[[2]int64]bool{}
	for i := range 12 {
		conv := &models.Conversation{Kind: models.KindInternal, Status: models.StatusOpen, Channel: "internal"}
		if i%3 != 0 {
			cust := customers[rng.IntN(len(customers))]
			conv = &models.Conversation{Kind: models.KindCustomer, Status: models.StatusOpen, Channel: "widget", CustomerID: &cust}
		}
		require.NoError(t, db.Select("Kind", "Status", "Channel", "CustomerID").Create(conv).Error)
		for _, u := range users {
			// Rows of every flavour: members, and non-members who wrote,
			// follow or read (none of which lets them into a teammate chat).
			if rng.IntN(3) == 0 {
				continue
			}
			m := conv.Kind == models.KindInternal && rng.IntN(2) == 0
			require.NoError(t, db.Exec(`INSERT INTO conversation_users (conversation_id, user_id, member, participated, following)
				VALUES (?, ?, ?, ?, ?)`, conv.ID, u.ID, m, rng.IntN(2) == 0, rng.IntN(2) == 0).Error)
			member[[2]int64{conv.ID, u.ID}] = m
		}
		convs = append(convs, conv)
	}

	t.Run("staff", func(t *testing.T) {
		for _, u := range users {
			var ids []int64
			require.NoError(t, db.Raw("SELECT c.id FROM conversations c WHERE "+models.UserSeesConversationSQL("c"),
				models.UserArgs(u)).Scan(&ids).Error)
			got := set(ids)
			for _, conv := range convs {
				want := models.CanSeeConversation(u, conv, member[[2]int64{conv.ID, u.ID}])
				require.Equal(t, want, got[conv.ID], "user %d (%s, support %v) conversation %d (%s)", u.ID, u.Role, u.CustomerSupport, conv.ID, conv.Kind)
			}
		}
	})

	t.Run("participants", func(t *testing.T) {
		// Who may join (or be invited into) a conversation, users as rows.
		var pairs []struct{ UserID, ConvID int64 }
		require.NoError(t, db.Raw("SELECT u.id AS user_id, c.id AS conv_id FROM users u, conversations c WHERE "+
			models.UsersMayJoinSQL("u", "c")).Scan(&pairs).Error)
		got := map[[2]int64]bool{}
		for _, p := range pairs {
			got[[2]int64{p.UserID, p.ConvID}] = true
		}
		for _, u := range users {
			for _, conv := range convs {
				require.Equal(t, models.CanJoinConversation(u, conv), got[[2]int64{u.ID, conv.ID}],
					"user %d (%s, support %v, active %v) conversation %d (%s)", u.ID, u.Role, u.CustomerSupport, u.Active, conv.ID, conv.Kind)
			}
		}
	})

	t.Run("visitors", func(t *testing.T) {
		var visitors []*models.Visitor
		for _, cust := range customers {
			visitors = append(visitors, &models.Visitor{CustomerID: cust})
			for _, conv := range convs {
				id := conv.ID
				visitors = append(visitors, &models.Visitor{CustomerID: cust, ConversationID: &id})
			}
		}
		for _, v := range visitors {
			var ids []int64
			require.NoError(t, db.Raw("SELECT c.id FROM conversations c WHERE "+models.VisitorSeesSQL("c"),
				models.VisitorArgs(v)).Scan(&ids).Error)
			got := set(ids)
			for _, conv := range convs {
				require.Equal(t, v.Sees(conv), got[conv.ID], "visitor of customer %d scoped %v, conversation %d", v.CustomerID, v.ConversationID, conv.ID)
			}
		}
	})

	t.Run("messages", func(t *testing.T) {
		events := append([]string{models.SysAssigned, "unassigned", "ticket_status", models.SysJoinedHidden, models.SysLeftHidden}, models.CustomerEvents...)
		for _, conv := range convs {
			if conv.Kind != models.KindCustomer {
				continue
			}
			for _, kind := range []string{models.MessageText, models.MessageNote} {
				require.NoError(t, db.Exec("INSERT INTO messages (conversation_id, kind, author_type, body) VALUES (?, ?, 'agent', 'x')", conv.ID, kind).Error)
			}
			for _, e := range events {
				require.NoError(t, db.Exec("INSERT INTO messages (conversation_id, kind, author_type, event) VALUES (?, 'system', 'system', ?)", conv.ID, e).Error)
			}
		}
		var ms []models.Message
		require.NoError(t, db.Find(&ms).Error)
		require.NotEmpty(t, ms)
		var ids []int64
		require.NoError(t, db.Raw("SELECT m.id FROM messages m WHERE "+models.CustomerSeesMessageSQL("m"),
			map[string]any{"customer_events": models.CustomerEvents}).Scan(&ids).Error)
		got := set(ids)
		for _, m := range ms {
			require.Equal(t, m.VisibleToCustomer(), got[m.ID], "message %d (%s %q)", m.ID, m.Kind, m.Event)
		}
	})

	t.Run("support agents and customer data", func(t *testing.T) {
		var rows []struct {
			ID              int64
			Agent, Customer bool
		}
		require.NoError(t, db.Raw("SELECT u.id, "+models.SupportAgentSQL("u")+" AS agent, "+models.UsersSeeCustomerDataSQL("u")+
			" AS customer FROM users u").Scan(&rows).Error)
		got := map[int64][2]bool{}
		for _, r := range rows {
			got[r.ID] = [2]bool{r.Agent, r.Customer}
		}
		for _, u := range users {
			require.Equal(t, [2]bool{models.IsSupportAgent(u), models.CanSeeCustomerData(u)}, got[u.ID],
				"user %d (%s, support %v, active %v)", u.ID, u.Role, u.CustomerSupport, u.Active)
		}
	})
	t.Run("items", func(t *testing.T) {
		var items []*models.Item
		for i := range 6 {
			kind := models.ItemTask
			if i%2 == 0 {
				kind = models.ItemTicket
			}
			it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
				return models.CreateItem(ctx, tx, users[1], models.ItemInput{Kind: kind, Title: fmt.Sprint("item ", i)})
			})
			require.NoError(t, err)
			items = append(items, it)
		}
		// The user as named arguments (lists and lookups for the viewer).
		for _, u := range users {
			var ids []int64
			require.NoError(t, db.Raw("SELECT i.id FROM items i WHERE "+models.UserSeesItemSQL("i"), models.UserArgs(u)).Scan(&ids).Error)
			got := set(ids)
			for _, it := range items {
				require.Equal(t, models.CanSeeItems(u, it.Kind), got[it.ID], "user %d (%s, support %v, active %v) item %d (%s)",
					u.ID, u.Role, u.CustomerSupport, u.Active, it.ID, it.Kind)
			}
		}
		// The user as a row (audiences).
		var pairs []struct{ UserID, ItemID int64 }
		require.NoError(t, db.Raw("SELECT u.id AS user_id, i.id AS item_id FROM users u, items i WHERE "+models.UsersSeeItemSQL("u", "i")).Scan(&pairs).Error)
		got := map[[2]int64]bool{}
		for _, p := range pairs {
			got[[2]int64{p.UserID, p.ItemID}] = true
		}
		for _, u := range users {
			for _, it := range items {
				require.Equal(t, models.CanSeeItems(u, it.Kind), got[[2]int64{u.ID, it.ID}], "user row %d (%s, support %v, active %v) item %d (%s)",
					u.ID, u.Role, u.CustomerSupport, u.Active, it.ID, it.Kind)
			}
		}
	})
}

func set(ids []int64) map[int64]bool {
	s := make(map[int64]bool, len(ids))
	for _, id := range ids {
		s[id] = true
	}
	return s
}
