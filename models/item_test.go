package models_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func mkConversation(t *testing.T, db *gorm.DB, body string) (*models.Customer, *models.Conversation) {
	t.Helper()
	cust, c, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: body})
	return cust, c
}

func count(t *testing.T, db *gorm.DB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Raw(sql, args...).Scan(&n).Error)
	return n
}

// Numbers per kind are gap-free and unique under contention, a rolled-back
// creation included: they come from a counter row updated under lock, not
// from a sequence.
func TestItemNumbersUnderContention(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")

	const workers, each = 20, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+1)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
					return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: fmt.Sprintf("w%d i%d", w, i)})
				})
				errs <- err
			}
		}()
		if w == workers/2 {
			// A creation that rolls back in the middle of the contention.
			wg.Add(1)
			go func() {
				defer wg.Done()
				rollback := errors.New("rollback")
				err := factory.Write(db, func(tx models.Tx) error {
					if _, err := models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "rolled back"}); err != nil {
						return err
					}
					return rollback
				})
				if !errors.Is(err, rollback) {
					errs <- fmt.Errorf("rolled-back creation: %v", err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var numbers []int64
	require.NoError(t, db.Raw("SELECT number FROM items WHERE kind = 'ticket' ORDER BY number").Scan(&numbers).Error)
	require.Len(t, numbers, workers*each)
	for i, n := range numbers {
		require.Equal(t, int64(i+1), n, "numbers 1..N without gaps or duplicates")
	}
	assert.Zero(t, count(t, db, "SELECT count(*) FROM items WHERE title = 'rolled back'"))

	// Tasks have their own sequence.
	task, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: "first task"})
	})
	require.NoError(t, err)
	assert.Equal(t, "K-1", task.Ref())
	ticket, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "next ticket"})
	})
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("T-%d", workers*each+1), ticket.Ref())
}

// Every bad input is reported on its field and stores nothing, not even a
// number.
func TestCreateItemValidation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	inactive := mkSupport(t, db, "gone@example.com")
	require.NoError(t, db.Exec("UPDATE users SET active = false, deactivated_at = now() WHERE id = ?", inactive.ID).Error)
	_, linked := mkConversation(t, db, "linked to all it may take")
	for i := range models.MaxConversationItems {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
			return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: fmt.Sprint("owner ", i), Conversation: linked})
		})
		require.NoError(t, err)
	}

	cases := []struct {
		name  string
		in    models.ItemInput
		field string
		code  string
	}{
		{"empty title", models.ItemInput{Kind: models.ItemTicket, Title: "   "}, "title", "item_title_empty"},
		{"title too long", models.ItemInput{Kind: models.ItemTicket, Title: strings.Repeat("é", 201)}, "title", "item_title_too_long"},
		{"unknown assignee", models.ItemInput{Kind: models.ItemTicket, Title: "x", Assignee: "999999"}, "assignee", "item_assignee_unknown"},
		{"garbage assignee", models.ItemInput{Kind: models.ItemTicket, Title: "x", Assignee: "abc"}, "assignee", "item_assignee_unknown"},
		{"ticket to a non-support user", models.ItemInput{Kind: models.ItemTicket, Title: "x", Assignee: fmt.Sprint(plain.ID)}, "assignee", "item_assignee_unknown"},
		{"inactive assignee", models.ItemInput{Kind: models.ItemTask, Title: "x", Assignee: fmt.Sprint(inactive.ID)}, "assignee", "item_assignee_unknown"},
		{"unknown team", models.ItemInput{Kind: models.ItemTask, Title: "x", Team: "424242"}, "team", "item_team_unknown"},
		{"bad due date", models.ItemInput{Kind: models.ItemTask, Title: "x", Due: "2026-02-30"}, "due", "item_due_invalid"},
		{"due date not a date", models.ItemInput{Kind: models.ItemTask, Title: "x", Due: "tomorrow"}, "due", "item_due_invalid"},
		{"bad status", models.ItemInput{Kind: models.ItemTask, Title: "x", Status: models.ItemResolved}, "status", "item_status_invalid"},
		{"bad priority", models.ItemInput{Kind: models.ItemTask, Title: "x", Priority: "whenever"}, "priority", "item_priority_invalid"},
		{"conversation at its limit of items", models.ItemInput{Kind: models.ItemTicket, Title: "x", Conversation: linked}, "conversation", "item_conversation_too_many"},
	}
	for _, tc := range cases {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) { return models.CreateItem(ctx, tx, me, tc.in) })
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), tc.name)
	}
	assert.Equal(t, int64(models.MaxConversationItems), count(t, db, "SELECT count(*) FROM items"), "nothing stored")
	assert.Equal(t, int64(0), count(t, db, "SELECT last_number FROM item_counters WHERE kind = 'ticket'"), "no number taken")

	// A 200-character title (trimmed) is fine.
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "  " + strings.Repeat("é", 200) + " "})
	})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("é", 200), it.Title)
	assert.Equal(t, "T-1", it.Ref())
}

// A ticket made from a conversation takes the customer as requester and
// links the conversation; the customer sees only "your request is now
// T-1", never the title or internal fields.
func TestCreateTicketFromConversation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	cust, conv := mkConversation(t, db, "My order #77 never arrived")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, conv, &me.ID) }))
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, conv, models.MessageNote, "secret note")
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, conv, models.MessageText, "Looking into it")
	})
	require.NoError(t, err)

	d, err := models.DraftFromConversation(ctx, db, conv)
	require.NoError(t, err)
	assert.Equal(t, "My order #77 never arrived", d.Title)
	_, long := mkConversation(t, db, strings.Repeat("word ", 100))
	ld, err := models.DraftFromConversation(ctx, db, long)
	require.NoError(t, err)
	assert.Equal(t, models.MaxItemTitle, utf8.RuneCountInString(ld.Title), "clipped to fit")
	assert.Contains(t, d.Description, "Looking into it")
	assert.NotContains(t, d.Description, "secret note", "notes stay out of the excerpt")
	assert.Equal(t, fmt.Sprint(me.ID), d.Assignee)

	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "Lost parcel (internal: VIP)",
			Description: d.Description, Assignee: d.Assignee, Priority: models.PriorityUrgent, Conversation: conv})
	})
	require.NoError(t, err)
	require.NotNil(t, it.RequesterID)
	assert.Equal(t, cust.ID, *it.RequesterID)
	linked, err := models.ConversationItemIDs(ctx, db, conv.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{it.ID}, linked)

	msgs, err := models.ListMessages(ctx, db, conv, true)
	require.NoError(t, err)
	last := msgs[len(msgs)-1]
	assert.Equal(t, models.SysTicketLinked, last.Event)
	assert.Equal(t, models.JSONMap{"by": "me@example.com", "ref": "T-1"}, last.EventData, "no internal fields")

	// Status changes: the customer hears of resolved, nothing else; staff
	// see every change.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, me, it, models.FieldPriority, models.PriorityLow)
	}))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, me, it, models.FieldStatus, models.ItemInProgress)
	}))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, me, it, models.FieldStatus, models.ItemResolved)
	}))
	msgs, err = models.ListMessages(ctx, db, conv, true)
	require.NoError(t, err)
	var events []string
	for _, m := range msgs {
		if m.Kind == models.MessageSystem {
			events = append(events, m.Event)
			for k := range m.EventData {
				assert.Contains(t, []string{"by", "ref", "status"}, k, "customer-visible data")
			}
		}
		assert.NotContains(t, m.Body, "secret")
	}
	assert.Equal(t, []string{models.SysTicketLinked, models.SysTicketStatus}, events)
	staff, err := models.ListMessages(ctx, db, conv, false)
	require.NoError(t, err)
	events = nil
	for _, m := range staff {
		if m.Kind == models.MessageSystem && strings.HasPrefix(m.Event, "item_") || strings.HasPrefix(m.Event, "ticket_") {
			events = append(events, m.Event)
		}
	}
	assert.Equal(t, []string{models.SysTicketLinked, models.SysItemPriority, models.SysItemStatus, models.SysTicketStatus}, events)

	// History: created, linked, priority, status ×2.
	v, err := models.OpenItem(ctx, db, me, models.ItemTicket, 1)
	require.NoError(t, err)
	var fields []string
	for _, a := range v.Activities {
		fields = append(fields, a.Field)
	}
	assert.Equal(t, []string{"created", "linked", "priority", "status", "status"}, fields)
	assert.Equal(t, models.ItemInProgress, v.Activities[4].OldValue)
	assert.Equal(t, models.ItemResolved, v.Activities[4].NewValue)
	require.Len(t, v.Conversations, 1)

	// Setting a field to what it is changes nothing.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, me, it, models.FieldStatus, models.ItemResolved)
	}))
	assert.Equal(t, int64(5), count(t, db, "SELECT count(*) FROM item_activities WHERE item_id = ?", it.ID))
}

// Updates validate like creation and store nothing when rejected.
func TestUpdateItemValidation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "Keep me"})
	})
	require.NoError(t, err)
	cases := []struct{ field, value, code string }{
		{models.FieldTitle, "", "item_title_empty"},
		{models.FieldTitle, strings.Repeat("x", 201), "item_title_too_long"},
		{models.FieldStatus, models.ItemDone, "item_status_invalid"},
		{models.FieldPriority, "meh", "item_priority_invalid"},
		{models.FieldAssignee, "12345", "item_assignee_unknown"},
		{models.FieldAssignee, fmt.Sprint(plain.ID), "item_assignee_unknown"},
		{models.FieldTeam, "12345", "item_team_unknown"},
		{models.FieldDue, "31/12/2026", "item_due_invalid"},
	}
	for _, tc := range cases {
		err := factory.Write(db, func(tx models.Tx) error { return models.UpdateItem(ctx, tx, me, it, tc.field, tc.value) })
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), tc.field+"="+tc.value)
	}
	assert.Equal(t, "item_field_invalid", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateItem(ctx, tx, me, it, "number", "7") }), "field"))
	assert.Equal(t, int64(1), count(t, db, "SELECT count(*) FROM item_activities WHERE item_id = ?", it.ID), "only 'created'")
	got, err := models.FindItem(ctx, db, me, models.ItemTicket, it.Number)
	require.NoError(t, err)
	assert.Equal(t, "Keep me", got.Title)

	// Valid changes of every field.
	team, err := models.CreateTeam(ctx, db, "Billing")
	require.NoError(t, err)
	for _, ch := range [][2]string{
		{models.FieldTitle, "New title"}, {models.FieldDescription, "Details"}, {models.FieldAssignee, fmt.Sprint(me.ID)},
		{models.FieldTeam, fmt.Sprint(team.ID)}, {models.FieldDue, "2026-12-24"}, {models.FieldPriority, models.PriorityHigh},
		{models.FieldStatus, models.ItemWaiting}, {models.FieldAssignee, ""}, {models.FieldDue, ""},
	} {
		require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateItem(ctx, tx, me, it, ch[0], ch[1]) }), ch[0])
	}
	got, err = models.FindItem(ctx, db, me, models.ItemTicket, it.Number)
	require.NoError(t, err)
	assert.Equal(t, "New title", got.Title)
	assert.Equal(t, "Details", got.Description)
	assert.Nil(t, got.AssigneeID)
	assert.Equal(t, "Billing", got.Team.Name)
	assert.Nil(t, got.DueOn)
	assert.Equal(t, models.ItemWaiting, got.Status)
	assert.Equal(t, int64(10), count(t, db, "SELECT count(*) FROM item_activities WHERE item_id = ?", it.ID))
}

// Linking: a conversation may have several items, an item many
// conversations, each pair once; unlinking one item leaves the others.
func TestLinkAndUnlinkConversations(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	_, c1 := mkConversation(t, db, "first")
	_, c2 := mkConversation(t, db, "second")
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "Shared", Conversation: c1})
	})
	require.NoError(t, err)
	other, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: "Other"})
	})
	require.NoError(t, err)

	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, it, c2) }))
	v, err := models.OpenItem(ctx, db, me, models.ItemTicket, it.Number)
	require.NoError(t, err)
	assert.Len(t, v.Conversations, 2)

	// A second item on the same conversation; the same one twice is refused.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, other, c2) }))
	ids, err := models.ConversationItemIDs(ctx, db, c2.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{it.ID, other.ID}, ids, "in the order linked")
	assert.Equal(t, "item_conversation_linked", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, other, c2) }), "conversation"))
	ghost := &models.Item{ID: 999999, Kind: models.ItemTicket, Number: 999999}
	_, c3 := mkConversation(t, db, "third")
	assert.Equal(t, "item_unknown", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, ghost, c3) }), "item"))
	assert.Zero(t, count(t, db, "SELECT count(*) FROM conversation_items WHERE conversation_id = ?", c3.ID), "nothing stored")

	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, me, c2, it) }))
	assert.Equal(t, "item_conversation_not_linked", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, me, c2, it) }), "conversation"))
	ids, err = models.ConversationItemIDs(ctx, db, c2.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{other.ID}, ids, "the other item stays")
	v, err = models.OpenItem(ctx, db, me, models.ItemTicket, it.Number)
	require.NoError(t, err)
	assert.Len(t, v.Conversations, 1)
	staff, err := models.ListMessages(ctx, db, c2, false)
	require.NoError(t, err)
	var events []string
	for _, m := range staff {
		if m.Kind == models.MessageSystem {
			events = append(events, m.Event)
		}
	}
	assert.Equal(t, []string{models.SysTicketLinked, models.SysItemLinked, models.SysItemUnlinked}, events)
	cust, err := models.ListMessages(ctx, db, c2, true)
	require.NoError(t, err)
	for _, m := range cust {
		assert.NotEqual(t, models.SysItemLinked, m.Event, "a task is never shown to the customer")
		assert.NotEqual(t, models.SysItemUnlinked, m.Event)
	}
}

// Tickets involve customers: only customer-support agents see them.
func TestTicketsAreForSupportAgents(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTicket, Title: "Refund"})
	})
	require.NoError(t, err)

	_, err = models.FindItem(ctx, db, plain, models.ItemTicket, it.Number)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.OpenItem(ctx, db, plain, models.ItemTicket, it.Number)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = models.ListItems(ctx, db, models.ItemQuery{Viewer: plain, Kind: models.ItemTicket})
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, plain, models.ItemInput{Kind: models.ItemTicket, Title: "x"})
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, plain, it, models.FieldStatus, models.ItemClosed)
	}), models.ErrNotFound)
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, plain, it, true) }), models.ErrNotFound)
	found, err := models.SearchItems(ctx, db, plain, "Refund", 10)
	require.NoError(t, err)
	assert.Empty(t, found)
	// A teammates' chat linked to the ticket shows its members no ticket.
	chat, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, me, []int64{plain.ID}, "about the refund")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, me, it, chat) }))
	panels, err := models.ConversationItems(ctx, db, plain, chat, nil)
	require.NoError(t, err)
	assert.Empty(t, panels)
	panels, err = models.ConversationItems(ctx, db, me, chat, nil)
	require.NoError(t, err)
	require.Len(t, panels, 1)
	assert.Equal(t, "T-1", panels[0].Item.Ref())
	assert.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, plain, chat, it) }), models.ErrNotFound)
	found, err = models.SearchItems(ctx, db, me, "refu", 10)
	require.NoError(t, err)
	assert.Len(t, found, 1)
}

// Tasks are for every staff user, support flag or not.
func TestTasksAreForAllStaff(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, plain, models.ItemInput{Kind: models.ItemTask, Title: "Update the FAQ", Assignee: fmt.Sprint(me.ID)})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, me, it, models.FieldAssignee, fmt.Sprint(plain.ID))
	}))
	got, err := models.FindItem(ctx, db, plain, models.ItemTask, it.Number)
	require.NoError(t, err)
	assert.Equal(t, plain.ID, *got.AssigneeID, "tasks go to anyone, support flag or not")
	page, err := models.ListItems(ctx, db, models.ItemQuery{Viewer: plain, Kind: models.ItemTask})
	require.NoError(t, err)
	assert.Len(t, page.Rows, 1)
	found, err := models.SearchItems(ctx, db, plain, "K-1", 10)
	require.NoError(t, err)
	assert.Len(t, found, 1)
}

// Every filter selects what it says and every sort pages forward and back
// through the same rows as one big page.
func TestListItemsFiltersSortsAndPaging(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	other := mkSupport(t, db, "other@example.com")
	team, err := models.CreateTeam(ctx, db, "Tier 2")
	require.NoError(t, err)
	today := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	statuses := []string{models.ItemNew, models.ItemOpen, models.ItemResolved, models.ItemWaiting, models.ItemClosed}
	for i := range 23 {
		in := models.ItemInput{Kind: models.ItemTicket, Title: fmt.Sprintf("Item %02d", i),
			Status: statuses[i%len(statuses)], Priority: models.Priorities[i%4]}
		if i%3 == 0 {
			in.Assignee = fmt.Sprint(me.ID)
		} else if i%3 == 1 {
			in.Assignee = fmt.Sprint(other.ID)
		}
		if i%4 == 0 {
			in.Team = fmt.Sprint(team.ID)
		}
		if i%2 == 0 {
			in.Due = today.AddDate(0, 0, i%7-3).Format(time.DateOnly)
		}
		creator := me
		if i%5 == 0 {
			creator = other
		}
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) { return models.CreateItem(ctx, tx, creator, in) })
		require.NoError(t, err)
	}
	// Equal update times exercise the id tie-break.
	require.NoError(t, db.Exec("UPDATE items SET updated_at = '2026-06-01' WHERE number % 3 = 0").Error)
	followed, err := models.FindItem(ctx, db, me, models.ItemTicket, 2)
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, me, followed, true) }))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, me, models.ItemInput{Kind: models.ItemTask, Title: "a task, not a ticket"})
	})
	require.NoError(t, err)

	all, err := models.ListItems(ctx, db, models.ItemQuery{Viewer: me, Kind: models.ItemTicket, Limit: 200})
	require.NoError(t, err)
	require.Len(t, all.Rows, 23)
	byNumber := map[int64]models.ItemRow{}
	for _, r := range all.Rows {
		byNumber[r.Number] = r
	}

	filters := map[string]struct {
		q    models.ItemQuery
		want func(r models.ItemRow) bool
	}{
		"status":    {models.ItemQuery{Status: models.ItemResolved}, func(r models.ItemRow) bool { return r.Status == models.ItemResolved }},
		"open ones": {models.ItemQuery{Status: models.StatusOpenOnes}, func(r models.ItemRow) bool { return models.ItemStatusOpen(r.Status) }},
		"assignee":  {models.ItemQuery{AssigneeID: other.ID}, func(r models.ItemRow) bool { return r.AssigneeID != nil && *r.AssigneeID == other.ID }},
		"team":      {models.ItemQuery{TeamID: team.ID}, func(r models.ItemRow) bool { return r.TeamID != nil }},
		"priority":  {models.ItemQuery{Priority: models.PriorityUrgent}, func(r models.ItemRow) bool { return r.Priority == models.PriorityUrgent }},
		"overdue":   {models.ItemQuery{Overdue: true}, func(r models.ItemRow) bool { return r.Overdue(today) }},
		"mine": {models.ItemQuery{Mine: true}, func(r models.ItemRow) bool {
			return (r.AssigneeID != nil && *r.AssigneeID == me.ID) || *r.CreatedBy == me.ID || r.ID == followed.ID
		}},
		"combined": {models.ItemQuery{Status: models.ItemNew, AssigneeID: me.ID}, func(r models.ItemRow) bool {
			return r.Status == models.ItemNew && r.AssigneeID != nil && *r.AssigneeID == me.ID
		}},
		"mine overdue": {models.ItemQuery{Mine: true, Overdue: true}, func(r models.ItemRow) bool {
			return r.Overdue(today) && ((r.AssigneeID != nil && *r.AssigneeID == me.ID) || *r.CreatedBy == me.ID || r.ID == followed.ID)
		}},
	}
	for name, f := range filters {
		q := f.q
		q.Viewer, q.Kind, q.Today, q.Limit = me, models.ItemTicket, today, 200
		page, err := models.ListItems(ctx, db, q)
		require.NoError(t, err)
		var got, want []int64
		for _, r := range page.Rows {
			got = append(got, r.Number)
		}
		for _, r := range all.Rows {
			if f.want(r) {
				want = append(want, r.Number)
			}
		}
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		require.NotEmpty(t, want, name)
		assert.Equal(t, sortedCopy(want), sortedCopy(got), name)
	}

	for _, s := range models.ItemSorts {
		full, err := models.ListItems(ctx, db, models.ItemQuery{Viewer: me, Kind: models.ItemTicket, Sort: s, Limit: 200})
		require.NoError(t, err)
		var want []int64
		for _, r := range full.Rows {
			want = append(want, r.Number)
		}
		// Forward, 5 at a time.
		var got []int64
		var pages []*models.ItemPage
		q := models.ItemQuery{Viewer: me, Kind: models.ItemTicket, Sort: s, Limit: 5}
		for {
			p, err := models.ListItems(ctx, db, q)
			require.NoError(t, err)
			pages = append(pages, p)
			for _, r := range p.Rows {
				got = append(got, r.Number)
			}
			if p.Next == nil {
				break
			}
			// The cursor survives a round trip through a URL.
			c, err := models.ParseItemCursor(s, p.Next.String())
			require.NoError(t, err)
			q.After = c
		}
		assert.Equal(t, want, got, "sort %s forward", s)
		assert.Len(t, pages, 5)
		assert.Nil(t, pages[0].Prev)
		// Back from the last page, through Prev cursors.
		got = nil
		p := pages[len(pages)-1]
		for _, r := range slicesReverse(p.Rows) {
			got = append(got, r.Number)
		}
		for p.Prev != nil {
			q.After, q.Before = nil, p.Prev
			p, err = models.ListItems(ctx, db, q)
			require.NoError(t, err)
			for _, r := range slicesReverse(p.Rows) {
				got = append(got, r.Number)
			}
		}
		var rev []int64
		for i := len(want) - 1; i >= 0; i-- {
			rev = append(rev, want[i])
		}
		assert.Equal(t, rev, got, "sort %s backward", s)
		assert.Len(t, p.Rows, 5, "the first page again")
		_ = byNumber
	}

	_, err = models.ParseItemCursor(models.SortUpdated, "garbage")
	assert.ErrorIs(t, err, models.ErrBadItemCursor)
	_, err = models.ListItems(ctx, db, models.ItemQuery{Viewer: me, Kind: models.ItemTicket, Sort: models.SortNumber,
		After: &models.ItemCursor{Sort: models.SortUpdated, Keys: []string{"1", "2"}}})
	assert.ErrorIs(t, err, models.ErrBadItemCursor)
}

func sortedCopy(s []int64) []int64 {
	out := append([]int64(nil), s...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func slicesReverse(rows []models.ItemRow) []models.ItemRow {
	out := make([]models.ItemRow, len(rows))
	for i, r := range rows {
		out[len(rows)-1-i] = r
	}
	return out
}

// An item's conversations are in My conversations of whoever created the
// item, is assigned to it or follows it.
func TestItemConversationsAreMine(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	creator := mkSupport(t, db, "creator@example.com")
	assignee := mkSupport(t, db, "assignee@example.com")
	follower := mkSupport(t, db, "follower@example.com")
	stranger := mkSupport(t, db, "stranger@example.com")
	_, conv := mkConversation(t, db, "help")
	it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, creator, models.ItemInput{Kind: models.ItemTicket, Title: "Help", Assignee: fmt.Sprint(assignee.ID), Conversation: conv})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, follower, it, true) }))
	for _, u := range []*models.User{creator, assignee, follower, stranger} {
		mine, err := models.IsMine(ctx, db, u, conv.ID)
		require.NoError(t, err)
		assert.Equal(t, u != stranger, mine, u.Email)
		list, err := models.ListInbox(ctx, db, models.InboxQuery{Viewer: u, Section: models.SectionMine, Status: models.StatusOpen})
		require.NoError(t, err)
		assert.Equal(t, u != stranger, len(list) == 1, u.Email)
	}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, follower, it, false) }))
	mine, err := models.IsMine(ctx, db, follower, conv.ID)
	require.NoError(t, err)
	assert.False(t, mine, "unfollowed")
	// Following announces the move to the follower's desks.
	assert.Equal(t, int64(2), count(t, db, "SELECT count(*) FROM events WHERE kind = 'conversation' AND user_id = ? AND data->>'item_following' IS NOT NULL", follower.ID))

	isMine := func(u *models.User, c *models.Conversation) bool {
		t.Helper()
		mine, err := models.IsMine(ctx, db, u, c.ID)
		require.NoError(t, err)
		return mine
	}
	// Reassigning moves the conversation from the old assignee's list to
	// the new one's; the creator keeps it.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.UpdateItem(ctx, tx, creator, it, models.FieldAssignee, fmt.Sprint(stranger.ID))
	}))
	assert.False(t, isMine(assignee, conv), "no longer assigned")
	assert.True(t, isMine(stranger, conv), "newly assigned")
	assert.True(t, isMine(creator, conv))
	// A conversation linked later joins the lists of everyone involved.
	_, conv2 := mkConversation(t, db, "more")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LinkConversation(ctx, tx, creator, it, conv2) }))
	assert.True(t, isMine(stranger, conv2))
	assert.True(t, isMine(creator, conv2))
	// Unlinked, it leaves them (nobody wrote in it or follows it).
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, creator, conv2, it) }))
	assert.False(t, isMine(stranger, conv2))
	assert.False(t, isMine(creator, conv2))
	// Writing in a conversation keeps it mine after the item lets go.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: stranger}, conv, models.MessageText, "on it")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UnlinkConversation(ctx, tx, creator, conv, it) }))
	assert.True(t, isMine(stranger, conv), "wrote in it")
	assert.False(t, isMine(creator, conv))
}
