package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func systemLines(t *testing.T, db *gorm.DB, conv *models.Conversation) []models.Message {
	t.Helper()
	var ms []models.Message
	require.NoError(t, db.Where("conversation_id = ? AND kind = 'system'", conv.ID).Order("id").Find(&ms).Error)
	return ms
}

// The rules of joining, inviting and leaving, their status lines (which
// the customer sees only for visible agents), the follow that goes with
// them, and the invitee's audience.
func TestParticipantsRules(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	a := factory.User(t, db, factory.UserOpts{Name: "Ana", CustomerSupport: true})
	b := factory.User(t, db, factory.UserOpts{Name: "Bo", CustomerSupport: true})
	c := factory.User(t, db, factory.UserOpts{Name: "Cy", CustomerSupport: true})
	plain := factory.User(t, db, factory.UserOpts{Name: "Pat"}) // no customer data rights
	gone := factory.User(t, db, factory.UserOpts{Name: "Gil", CustomerSupport: true})
	admin := factory.User(t, db, factory.UserOpts{Name: "Root", Role: models.RoleAdmin, CustomerSupport: true})
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.DeactivateUser(ctx, tx, admin.ID, gone.ID) }))
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})

	write := func(fn func(models.Tx) error) error { return factory.Write(db, fn) }

	// Invitations that are refused store nothing and say why.
	for _, tc := range []struct {
		name string
		id   int64
		code string
	}{
		{"unknown", 999999, "invitee_unknown"},
		{"deactivated", gone.ID, "invitee_deactivated"},
		{"no customer data rights", plain.ID, "invitee_no_access"},
		{"self", a.ID, "invitee_self"},
	} {
		err := write(func(tx models.Tx) error { return models.InviteParticipant(ctx, tx, a, conv, tc.id) })
		assert.Equal(t, tc.code, fieldCode(t, err, "user_id"), tc.name)
	}
	require.Empty(t, systemLines(t, db, conv))

	// A invites B: B is in, visibly, follows it, and is B's bell's business.
	require.NoError(t, write(func(tx models.Tx) error { return models.InviteParticipant(ctx, tx, a, conv, b.ID) }))
	err := write(func(tx models.Tx) error { return models.InviteParticipant(ctx, tx, a, conv, b.ID) })
	assert.Equal(t, "already_participant", fieldCode(t, err, "user_id"))
	evs, err := models.ReplayEvents(ctx, db, 1, ^uint64(0)>>1, models.ReplayScope{}, models.DefaultReplayLimits)
	require.NoError(t, err)
	var invite *models.Event
	for i := range evs {
		if d, ok := evs[i].Data.(models.ConversationEvent); ok && d.Participant != nil && d.Participant.UserID == b.ID {
			invite = &evs[i]
		}
	}
	require.NotNil(t, invite, "an event says B joined")
	aud, err := models.AudienceOf(ctx, db, *invite)
	require.NoError(t, err)
	require.NotNil(t, aud)
	assert.Equal(t, models.ReasonInvited, aud.Reason)
	assert.Equal(t, []int64{b.ID}, aud.UserIDs)
	var following bool
	require.NoError(t, db.Raw("SELECT following FROM conversation_users WHERE conversation_id = ? AND user_id = ?", conv.ID, b.ID).Scan(&following).Error)
	assert.True(t, following, "joining follows the conversation")

	// C joins hidden; joining twice is refused.
	require.NoError(t, write(func(tx models.Tx) error { return models.JoinConversation(ctx, tx, c, conv, true) }))
	err = write(func(tx models.Tx) error { return models.JoinConversation(ctx, tx, c, conv, false) })
	assert.Equal(t, "already_participant", fieldCode(t, err, "participant"))
	// Someone without customer data rights may not join.
	err = write(func(tx models.Tx) error { return models.JoinConversation(ctx, tx, plain, conv, false) })
	assert.True(t, errors.Is(err, models.ErrForbidden), "%v", err)

	ps, err := models.Participants(ctx, db, conv)
	require.NoError(t, err)
	require.Len(t, ps, 2)
	assert.Equal(t, b.ID, ps[0].UserID)
	assert.Equal(t, a.ID, *ps[0].InvitedBy)
	assert.True(t, ps[1].Hidden)
	inv, err := models.InvitableAgents(ctx, db, conv)
	require.NoError(t, err)
	var names []string
	for _, u := range inv {
		names = append(names, u.Name)
	}
	assert.Equal(t, []string{"Ana", "Root"}, names, "active agents not in it")
	// The conversation page reads who is in it; who may be invited loads
	// with the menu.
	v, err := models.ConversationViewOf(ctx, db, a, conv, models.InboxQuery{}, false)
	require.NoError(t, err)
	require.Len(t, v.Participants.Participants, 2)

	// Leaving: only those in it; B and C leave.
	err = write(func(tx models.Tx) error { return models.LeaveConversation(ctx, tx, a, conv) })
	assert.Equal(t, "not_participant", fieldCode(t, err, "participant"))
	require.NoError(t, write(func(tx models.Tx) error { return models.LeaveConversation(ctx, tx, b, conv) }))
	require.NoError(t, write(func(tx models.Tx) error { return models.LeaveConversation(ctx, tx, c, conv) }))
	require.NoError(t, db.Raw("SELECT following FROM conversation_users WHERE conversation_id = ? AND user_id = ?", conv.ID, b.ID).Scan(&following).Error)
	assert.False(t, following, "leaving stops following")

	var events []string
	var visible []bool
	for _, m := range systemLines(t, db, conv) {
		events = append(events, m.Event)
		visible = append(visible, m.VisibleToCustomer())
	}
	assert.Equal(t, []string{models.SysJoined, models.SysJoinedHidden, models.SysLeft, models.SysLeftHidden}, events)
	assert.Equal(t, []bool{true, false, true, false}, visible, "the customer sees only the visible agent's lines")
	page, err := models.ListMessagesBefore(ctx, db, conv, true, 0, models.MessageLimit)
	require.NoError(t, err)
	for _, m := range page.Messages {
		assert.NotContains(t, []string{models.SysJoinedHidden, models.SysLeftHidden}, m.Event, "the customer's thread")
	}

	// B may join again, hidden this time (the row is reused).
	require.NoError(t, write(func(tx models.Tx) error { return models.JoinConversation(ctx, tx, b, conv, true) }))
	ps, err = models.Participants(ctx, db, conv)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.True(t, ps[0].Hidden)
	assert.Nil(t, ps[0].InvitedBy)

	// Teammate chats have no participants.
	ichat, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, a, []int64{b.ID}, "hi")
	})
	require.NoError(t, err)
	err = write(func(tx models.Tx) error { return models.JoinConversation(ctx, tx, a, ichat, false) })
	assert.Equal(t, "participants_customer_only", fieldCode(t, err, "participant"))
}

// A hidden participant's replies carry AuthorHidden, for good: the customer
// sees the desk's name, even after they left, until they join visibly.
func TestHiddenAuthorName(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	c := factory.User(t, db, factory.UserOpts{Name: "Cy", CustomerSupport: true})
	_, conv, first := factory.Conversation(t, db, factory.ConversationOpts{})
	post := func() *models.Message {
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: c}, conv, models.MessageText, "reply")
		})
		require.NoError(t, err)
		return m
	}
	before := post()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.JoinConversation(ctx, tx, c, conv, true) }))
	hidden := post()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.LeaveConversation(ctx, tx, c, conv) }))
	afterLeaving := post()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.JoinConversation(ctx, tx, c, conv, false) }))
	visible := post()

	ms, err := models.MessagesByID(ctx, db, []int64{first.ID, before.ID, hidden.ID, afterLeaving.ID, visible.ID})
	require.NoError(t, err)
	name := func(id int64) string { return models.CustomerAuthorName(ms[id], "Acme Support") }
	assert.Equal(t, "Cy", name(before.ID))
	assert.Equal(t, "Acme Support", name(hidden.ID))
	assert.True(t, hidden.AuthorHidden, "the post returns it too")
	assert.Equal(t, "Acme Support", name(afterLeaving.ID))
	assert.Equal(t, "Cy", name(visible.ID))
	assert.NotEqual(t, "Acme Support", name(first.ID), "the customer's own message")
}
