package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestEditAndDeleteMessage(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	author := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	other := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	_, conv, first := factory.Conversation(t, db, factory.ConversationOpts{Body: "Where is my order?"})

	post := func(kind, body string) *models.Message {
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessageWithOpts(ctx, tx, models.Actor{User: author}, conv, kind, body, models.PostOpts{LinkURL: map[bool]string{true: "https://example.com/track"}[kind == models.MessageText]})
		})
		require.NoError(t, err)
		return m
	}
	reply := post(models.MessageText, "It ships tomorrow")
	note := post(models.MessageNote, "Customer is grumpy")
	edit := func(u *models.User, id int64, body string) (*models.Message, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.EditMessage(ctx, tx, u, conv, id, body)
		})
	}
	del := func(u *models.User, id int64) (*models.Message, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.DeleteMessage(ctx, tx, u, conv, id)
		})
	}
	revisions := func(id int64) int64 {
		var n int64
		require.NoError(t, db.Model(&models.MessageRevision{}).Where("message_id = ?", id).Count(&n).Error)
		return n
	}
	changes := func(id int64) []models.Event {
		var evs []models.Event
		require.NoError(t, db.Where("message_id = ? AND kind = ?", id, models.EventMessageChanged).Order("id").Find(&evs).Error)
		return evs
	}

	// Someone else's message: forbidden, nothing stored.
	_, err := edit(other, reply.ID, "Hacked")
	require.ErrorIs(t, err, models.ErrForbidden)
	_, err = del(other, reply.ID)
	require.ErrorIs(t, err, models.ErrForbidden)
	// The customer's message is no agent's own either.
	_, err = edit(author, first.ID, "Changed")
	require.ErrorIs(t, err, models.ErrForbidden)
	// Bad bodies: a field error, nothing stored.
	_, err = edit(author, reply.ID, "  \n ")
	assert.Equal(t, "message_empty", fieldCode(t, err, "body"))
	_, err = edit(author, reply.ID, strings.Repeat("x", models.MaxMessageLen+1))
	assert.Equal(t, "message_too_long", fieldCode(t, err, "body"))
	// A message of another conversation is not found.
	_, conv2, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.EditMessage(ctx, tx, author, conv2, reply.ID, "x")
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	assert.Zero(t, revisions(reply.ID))
	assert.Empty(t, changes(reply.ID))

	// The author edits: new text, marked, the original kept, an event.
	m, err := edit(author, reply.ID, " It ships today ")
	require.NoError(t, err)
	assert.Equal(t, "It ships today", m.Body)
	assert.NotNil(t, m.EditedAt)
	assert.Equal(t, "https://example.com/track", m.LinkURL)
	assert.Equal(t, 1, int(revisions(reply.ID)))
	evs := changes(reply.ID)
	require.Len(t, evs, 1)
	assert.Equal(t, models.MessageChangedEvent{ByUserID: author.ID}, evs[0].Data)
	// The inbox preview follows the newest reply (the note is newer, but a
	// note never sets the preview).
	var c models.Conversation
	require.NoError(t, db.Take(&c, conv.ID).Error)
	assert.Equal(t, "It ships today", c.LastMessagePreview)
	// The same text again changes nothing.
	_, err = edit(author, reply.ID, "It ships today")
	require.NoError(t, err)
	assert.Equal(t, 1, int(revisions(reply.ID)))

	// An email not yet sent carries the current text.
	rs, err := models.TakeCustomerReplies(ctx, db, conv.ID)
	require.NoError(t, err)
	require.Len(t, rs.Messages, 1)
	assert.Equal(t, "It ships today", rs.Messages[0].Body)

	// Admins may change any message or note; status lines are never changed.
	_, err = edit(admin, note.ID, "Customer is in a hurry")
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (struct{}, error) {
		return struct{}{}, models.SetStatus(ctx, tx, author, conv, models.StatusClosed)
	})
	require.NoError(t, err)
	var sys models.Message
	require.NoError(t, db.Where("conversation_id = ? AND kind = ?", conv.ID, models.MessageSystem).Take(&sys).Error)
	_, err = edit(admin, sys.ID, "nothing happened")
	require.ErrorIs(t, err, models.ErrForbidden)
	_, err = del(admin, sys.ID)
	require.ErrorIs(t, err, models.ErrForbidden)

	// A second reply, then its deletion: the row stays, empty, and the
	// history has what it said.
	reply2 := post(models.MessageText, "Secret discount code: X1")
	// A teammate who follows the conversation was told of it in the bell.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, other, conv, true) }))
	var msgEv models.Event
	require.NoError(t, db.Where("message_id = ? AND kind = ?", reply2.ID, models.EventMessage).Take(&msgEv).Error)
	require.Equal(t, 1, notifyEvent(t, db, msgEv))
	bellPreview := func() string {
		var p string
		require.NoError(t, db.Raw(`SELECT data->>'preview' FROM notifications WHERE message_id = ?`, reply2.ID).Scan(&p).Error)
		return p
	}
	require.Equal(t, "Secret discount code: X1", bellPreview())
	m, err = del(author, reply2.ID)
	require.NoError(t, err)
	assert.Empty(t, m.Body)
	assert.Empty(t, m.LinkURL)
	assert.NotNil(t, m.DeletedAt)
	evs = changes(reply2.ID)
	require.Len(t, evs, 1)
	assert.Equal(t, models.MessageChangedEvent{Deleted: true, ByUserID: author.ID}, evs[0].Data)
	require.NoError(t, db.Take(&c, conv.ID).Error)
	assert.Empty(t, c.LastMessagePreview, "the deleted text leaves the inbox row")
	assert.Empty(t, bellPreview(), "and the bell")
	// A deleted message cannot be edited or deleted again.
	_, err = edit(admin, reply2.ID, "back")
	require.ErrorIs(t, err, models.ErrForbidden)
	// A mail job running after the deletion does not send its text.
	rs, err = models.TakeCustomerReplies(ctx, db, conv.ID)
	require.NoError(t, err)
	assert.Empty(t, rs.Messages)
	// Threads keep its place (paging, counts).
	page, err := models.ListMessagesBefore(ctx, db, conv, true, 0, models.MessageLimit)
	require.NoError(t, err)
	var ids []int64
	for _, pm := range page.Messages {
		ids = append(ids, pm.ID)
		assert.NotContains(t, pm.Body, "Secret")
	}
	assert.Contains(t, ids, reply2.ID)

	// The history: admins only.
	_, err = models.MessageHistory(ctx, db, author, reply2)
	require.True(t, errors.Is(err, models.ErrForbidden))
	h, err := models.MessageHistory(ctx, db, admin, reply2)
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, models.RevisionDelete, h[0].Action)
	assert.Equal(t, "Secret discount code: X1", h[0].Body)
	assert.Equal(t, "https://example.com/track", h[0].LinkURL)
	require.NotNil(t, h[0].User)
	assert.Equal(t, author.ID, h[0].User.ID)
	h, err = models.MessageHistory(ctx, db, admin, reply)
	require.NoError(t, err)
	require.Len(t, h, 1)
	assert.Equal(t, models.RevisionEdit, h[0].Action)
	assert.Equal(t, "It ships tomorrow", h[0].Body)
}

func TestCanChangeMessage(t *testing.T) {
	t.Parallel()
	me := &models.User{ID: 1, Active: true, Role: models.RoleAgent}
	admin := &models.User{ID: 2, Active: true, Role: models.RoleAdmin}
	gone := &models.User{ID: 1, Role: models.RoleAgent}
	mine, theirs := int64(1), int64(3)
	cases := []struct {
		u    *models.User
		m    models.Message
		want bool
	}{
		{me, models.Message{Kind: models.MessageText, AuthorUserID: &mine}, true},
		{me, models.Message{Kind: models.MessageNote, AuthorUserID: &mine}, true},
		{me, models.Message{Kind: models.MessageText, AuthorUserID: &theirs}, false},
		{me, models.Message{Kind: models.MessageText, AuthorType: models.AuthorCustomer}, false},
		{admin, models.Message{Kind: models.MessageText, AuthorUserID: &theirs}, true},
		{admin, models.Message{Kind: models.MessageText, AuthorType: models.AuthorCustomer}, true},
		{admin, models.Message{Kind: models.MessageSystem, Event: models.SysClosed}, false},
		{gone, models.Message{Kind: models.MessageText, AuthorUserID: &mine}, false},
		{nil, models.Message{Kind: models.MessageText, AuthorUserID: &mine}, false},
	}
	for i, tc := range cases {
		assert.Equal(t, tc.want, models.CanChangeMessage(tc.u, &tc.m), i)
	}
	now := models.Message{Kind: models.MessageText, AuthorUserID: &mine}
	now.DeletedAt = &now.CreatedAt
	assert.False(t, models.CanChangeMessage(admin, &now), "deleted")
	assert.True(t, models.CanSeeMessageHistory(admin))
	assert.False(t, models.CanSeeMessageHistory(me))
}
