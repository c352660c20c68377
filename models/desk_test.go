package models_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func mkSupport(t *testing.T, db *gorm.DB, email string) *models.User {
	t.Helper()
	return factory.User(t, db, factory.UserOpts{Email: email, CustomerSupport: true})
}

// Holds must agree with ListInbox for every list a desk can show, or live
// updates would put rows where a reload would not.
func TestInboxQueryHoldsMatchesListInbox(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	other := mkSupport(t, db, "other@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)

	var convs []*models.Conversation
	for range 6 {
		_, cust := mkCustomer(t, db)
		c, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
		convs = append(convs, c)
	}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, convs[0], &me.ID) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, convs[1], &other.ID) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, me, convs[2], models.StatusClosed) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, other, convs[3], &me.ID) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, me, convs[3], models.StatusClosed) }))
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, convs[4], models.MessageText, "answered")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, convs[5], true) }))
	// Conversations of items (item.go): mine through an item I follow, one
	// through an item assigned to me, and one of someone else's item.
	for i, in := range []models.ItemInput{
		{Kind: models.ItemTicket, Title: "followed"},
		{Kind: models.ItemTask, Title: "assigned", Assignee: fmt.Sprint(me.ID)},
		{Kind: models.ItemTicket, Title: "theirs", Assignee: fmt.Sprint(other.ID)},
	} {
		_, c := mkConversation(t, db, "item conversation")
		in.Conversation = c
		it, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) { return models.CreateItem(ctx, tx, other, in) })
		require.NoError(t, err)
		if i == 0 {
			require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, me, it, true) }))
		}
		convs = append(convs, c)
	}
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, other, []int64{me.ID, plain.ID}, "team")
	})
	require.NoError(t, err)
	notMine, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, other, []int64{plain.ID}, "not for me")
	})
	require.NoError(t, err)

	ids := []int64{internal.ID, notMine.ID}
	for _, c := range convs {
		ids = append(ids, c.ID)
	}
	for _, viewer := range []*models.User{me, other, plain} {
		rows, err := models.LiveRows(ctx, db, viewer, ids)
		require.NoError(t, err)
		for _, section := range []string{models.SectionCustomers, models.SectionMine} {
			for _, status := range []string{models.StatusOpen, models.StatusClosed} {
				for _, filter := range []string{models.FilterAll, models.FilterUnassigned, models.FilterMine} {
					q := models.InboxQuery{Viewer: viewer, Section: section, Status: status, Filter: filter}
					list, err := models.ListInbox(ctx, db, q)
					require.NoError(t, err)
					want := map[int64]bool{}
					for _, r := range list {
						want[r.ID] = true
					}
					for id, r := range rows {
						assert.Equal(t, want[id], q.Holds(r), "%s %s/%s/%s conversation %d", viewer.Email, section, status, filter, id)
					}
					for id := range want {
						assert.Contains(t, rows, id, "a listed conversation is visible to LiveRows")
					}
				}
			}
		}
	}

	// Visibility: no customer conversations without the flag, internal ones
	// for members only, with the other members' names.
	rows, err := models.LiveRows(ctx, db, plain, ids)
	require.NoError(t, err)
	assert.Len(t, rows, 2)
	assert.Equal(t, "me@example.com, other@example.com", rows[internal.ID].MemberNames)
	assert.Equal(t, "me@example.com, other@example.com", rows[internal.ID].Title())
	rows, err = models.LiveRows(ctx, db, me, ids)
	require.NoError(t, err)
	assert.NotContains(t, rows, notMine.ID)
	assert.Equal(t, "other@example.com, plain@example.com", rows[internal.ID].MemberNames)
	assert.True(t, rows[convs[5].ID].Mine, "followed")
	assert.True(t, rows[convs[4].ID].Mine, "written in")
	assert.False(t, rows[convs[1].ID].Mine, "someone else's")
	assert.True(t, rows[convs[6].ID].Mine, "its item followed")
	assert.True(t, rows[convs[7].ID].Mine, "its item assigned to me")
	assert.False(t, rows[convs[8].ID].Mine, "someone else's item")

	// Several viewers in one statement (the desk streams of one moment):
	// each request gets its own viewer's rows, never another's.
	many, err := models.LiveRowsMany(ctx, db, []models.RowsRequest{
		{Viewer: plain, IDs: ids}, {Viewer: me, IDs: ids}, {Viewer: other, IDs: ids[:2]}, {Viewer: me, IDs: nil},
	})
	require.NoError(t, err)
	require.Len(t, many, 4)
	assert.Len(t, many[0], 2, "no customer conversations without the flag")
	assert.Equal(t, "me@example.com, other@example.com", many[0][internal.ID].MemberNames)
	assert.NotContains(t, many[1], notMine.ID)
	assert.Equal(t, "other@example.com, plain@example.com", many[1][internal.ID].MemberNames)
	assert.True(t, many[1][convs[5].ID].Mine, "followed, for me")
	assert.True(t, many[1][convs[5].ID].ViewerFollowing)
	assert.False(t, many[1][convs[1].ID].Mine, "someone else's")
	assert.Len(t, many[2], 2, "other started both internal conversations")
	assert.Equal(t, "me@example.com, plain@example.com", many[2][internal.ID].MemberNames)
	assert.Equal(t, "plain@example.com", many[2][notMine.ID].MemberNames)
	assert.Empty(t, many[3])
	for _, viewer := range []*models.User{me, other, plain} {
		one, err := models.LiveRows(ctx, db, viewer, ids)
		require.NoError(t, err)
		for i, r := range []*models.User{plain, me} {
			if r == viewer {
				assert.Equal(t, one, many[i], "%s: the same rows alone and with others", viewer.Email)
			}
		}
	}
}

func TestInboxCursorPaging(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	for range 7 {
		_, cust := mkCustomer(t, db)
		_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, "hello", models.SessionInfo{})
		})
		require.NoError(t, err)
	}
	q := models.InboxQuery{Viewer: me, Section: models.SectionCustomers, Status: models.StatusOpen, Limit: 3}
	seen := map[int64]bool{}
	pages := 0
	for {
		rows, err := models.ListInbox(ctx, db, q)
		require.NoError(t, err)
		if len(rows) == 0 {
			break
		}
		pages++
		for _, r := range rows {
			require.False(t, seen[r.ID], "row %d on two pages", r.ID)
			seen[r.ID] = true
		}
		cur := rows[len(rows)-1].Cursor()
		parsed, err := models.ParseInboxCursor(cur.String())
		require.NoError(t, err)
		require.True(t, parsed.At.Equal(cur.At), "the cursor keeps microseconds")
		q.Before = parsed
	}
	assert.Len(t, seen, 7)
	assert.Equal(t, 3, pages)

	for _, bad := range []string{"x", "1-", "-1", "12-ab", "0-0"} {
		_, err := models.ParseInboxCursor(bad)
		assert.ErrorIs(t, err, models.ErrBadCursor, bad)
	}
	c, err := models.ParseInboxCursor("")
	assert.NoError(t, err)
	assert.Nil(t, c)
}

func TestOpenConversationMarksReadAndPicksList(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	plain := mkUser(t, db, "plain@example.com", models.RoleAgent)
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "one", models.SessionInfo{Browser: "Firefox"})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, conv, models.MessageNote, "a note")
	})
	require.NoError(t, err)
	other := mkSupport(t, db, "other@example.com")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: other}, conv, models.MessageText, "reply")
	})
	require.NoError(t, err)

	s, err := models.CountUnread(ctx, db, me)
	require.NoError(t, err)
	require.Equal(t, 1, s.Customers)
	read, err := models.ReadUpToDate(ctx, db, me, conv)
	require.NoError(t, err)
	require.False(t, read, "a reply I have not read")
	row, has, err := models.OpenRowFor(ctx, db, me, conv.ID)
	require.NoError(t, err)
	require.False(t, row.ViewerRead, "its row says the same")
	require.Equal(t, models.SessionsOf{}, has, "no sessions")
	require.Equal(t, 1, row.Unread)

	v, err := factory.Write1(db, func(tx models.Tx) (*models.ConversationView, error) {
		return models.OpenConversation(ctx, tx, me, conv.PublicID, models.InboxQuery{})
	})
	require.NoError(t, err)
	read, err = models.ReadUpToDate(ctx, db, me, conv)
	require.NoError(t, err)
	require.True(t, read, "opening it read it: opening it again has nothing to write")
	row, _, err = models.OpenRowFor(ctx, db, me, conv.ID)
	require.NoError(t, err)
	require.True(t, row.ViewerRead, "its row says the same")
	_, _, err = models.OpenRowFor(ctx, db, plain, conv.ID)
	require.ErrorIs(t, err, models.ErrNotFound, "without the support flag")
	assert.Len(t, v.Messages, 3, "staff see the note")
	assert.Equal(t, models.SectionCustomers, v.ListQuery.Section, "a customer conversation opens beside the inbox")
	assert.Len(t, v.List, 1)
	assert.Zero(t, v.Row.Unread)
	assert.NotEmpty(t, v.Teammates, "I wrote in it: the composer offers me to the others")
	assert.True(t, v.Row.Mine, "I wrote a note in it")
	s, err = models.CountUnread(ctx, db, me)
	require.NoError(t, err)
	assert.Equal(t, models.UnreadSummary{}, s, "opening it read it")

	_, err = factory.Write1(db, func(tx models.Tx) (*models.ConversationView, error) {
		return models.OpenConversation(ctx, tx, plain, conv.PublicID, models.InboxQuery{})
	})
	require.ErrorIs(t, err, models.ErrNotFound)

	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, plain, []int64{me.ID}, "hi")
	})
	require.NoError(t, err)
	v, err = factory.Write1(db, func(tx models.Tx) (*models.ConversationView, error) {
		return models.OpenConversation(ctx, tx, plain, internal.PublicID, models.InboxQuery{Section: models.SectionCustomers, Status: models.StatusOpen})
	})
	require.NoError(t, err)
	assert.Equal(t, models.SectionMine, v.ListQuery.Section, "no customers list without the flag")
	assert.Len(t, v.Members, 2)
	assert.Empty(t, v.Teammates)
}

func TestUnreadTotalCountsEachConversationOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	other := mkSupport(t, db, "other@example.com")
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "one", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, other, conv, &me.ID) }))
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, other, []int64{me.ID}, "team")
	})
	require.NoError(t, err)
	s, err := models.CountUnread(ctx, db, me)
	require.NoError(t, err)
	assert.Equal(t, models.UnreadSummary{Customers: 1, Mine: 2, Total: 2}, s)

	nav, err := models.DeskNav(ctx, db, me)
	require.NoError(t, err)
	assert.True(t, nav.Online)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, other.ID, false) }))
	nav, err = models.DeskNav(ctx, db, me)
	require.NoError(t, err)
	assert.False(t, nav.Online)
}

func TestFollowingAndSound(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	_, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "one", models.SessionInfo{})
	})
	require.NoError(t, err)

	mine, err := models.IsMine(ctx, db, me, conv.ID)
	require.NoError(t, err)
	require.False(t, mine)
	before := countEvents(t, db, models.EventConversation)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, conv, true) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, conv, true) }), "following twice changes nothing")
	assert.Equal(t, before+1, countEvents(t, db, models.EventConversation), "one event for the one change")
	mine, _ = models.IsMine(ctx, db, me, conv.ID)
	assert.True(t, mine)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, conv, false) }))
	mine, _ = models.IsMine(ctx, db, me, conv.ID)
	assert.False(t, mine)

	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, me, []int64{mkUser(t, db, "x@example.com", models.RoleAgent).ID}, "hi")
	})
	require.NoError(t, err)
	assert.Equal(t, "follow_invalid", fieldCode(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, internal, true) }), "following"))

	u, err := models.FindUser(ctx, db, me.ID)
	require.NoError(t, err)
	assert.True(t, u.NotifySound, "the chime is on by default")
	require.NoError(t, models.SetNotifySound(ctx, db, me.ID, false))
	u, _ = models.FindUser(ctx, db, me.ID)
	assert.False(t, u.NotifySound)
	require.ErrorIs(t, models.SetNotifySound(ctx, db, 0, true), models.ErrNotFound)
}

// A row's "mine" (read from the viewer's own conversation_users row) agrees
// with IsMine (mineCondition) for every way a conversation becomes one's
// own, and for one that is not.
func TestRowMineAgreesWithIsMine(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	me := mkSupport(t, db, "me@example.com")
	other := mkSupport(t, db, "other@example.com")
	start := func(body string) *models.Conversation {
		_, cust := mkCustomer(t, db)
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, cust, body, models.SessionInfo{})
		})
		require.NoError(t, err)
		return conv
	}
	assigned, replied, followed, untouched, othersOwn := start("a"), start("b"), start("c"), start("d"), start("e")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, me, assigned, &me.ID) }))
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: me}, replied, models.MessageText, "on it")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, me, followed, true) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, other, othersOwn, &other.ID) }))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: other}, othersOwn, models.MessageText, "mine")
	})
	require.NoError(t, err)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, other, []int64{me.ID}, "hi")
	})
	require.NoError(t, err)

	for conv, want := range map[*models.Conversation]bool{assigned: true, replied: true, followed: true, untouched: false, othersOwn: false, internal: true} {
		row, err := models.InboxRowFor(ctx, db, me, conv.ID)
		require.NoError(t, err)
		isMine, err := models.IsMine(ctx, db, me, conv.ID)
		require.NoError(t, err)
		assert.Equal(t, want, row.Mine, "row of %q", conv.PublicID)
		assert.Equal(t, isMine, row.Mine, "row and IsMine agree on %q", conv.PublicID)
	}
}
