package models_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func cobrowseLines(t *testing.T, db *gorm.DB, convID int64) []string {
	t.Helper()
	var ev []string
	require.NoError(t, db.Raw(`SELECT event FROM messages WHERE conversation_id = ? AND event LIKE 'cobrowse_%' ORDER BY id`, convID).Scan(&ev).Error)
	return ev
}

// The state machine: requested → active (allowed) → ended, or requested →
// declined; one running session per conversation; every step a status line
// the customer sees too; chunks only while active; the purge after the end.
func TestCobrowseStateMachine(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})

	s, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, agent, conv)
	})
	require.NoError(t, err)
	assert.Equal(t, models.CobrowseRequested, s.State)
	_, has, err := models.OpenRowFor(ctx, db, agent, conv.ID)
	require.NoError(t, err)
	assert.Equal(t, models.SessionsOf{Cobrowse: true}, has, "opening the conversation shows the request")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, agent, conv)
	})
	assert.ErrorIs(t, err, models.ErrCobrowseBusy, "a second request while one runs")

	// Not consented yet: no chunk.
	chunk := []byte(`[{"type":4,"data":{"href":"https://shop.example/"},"timestamp":1}]`)
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.AppendCobrowseChunk(ctx, tx, v, conv, s.PublicID, chunk)
	})
	assert.ErrorIs(t, err, models.ErrCobrowseState)

	s, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.AnswerCobrowse(ctx, tx, v, conv, s.PublicID, true)
	})
	require.NoError(t, err)
	assert.Equal(t, models.CobrowseActive, s.State)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.AnswerCobrowse(ctx, tx, v, conv, s.PublicID, false)
	})
	assert.ErrorIs(t, err, models.ErrCobrowseState, "answered once")

	for range 2 {
		_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
			return models.AppendCobrowseChunk(ctx, tx, v, conv, s.PublicID, chunk)
		})
		require.NoError(t, err)
	}
	got, err := models.CobrowseChunksAfter(ctx, db, agent, conv, s, 0, 10)
	require.NoError(t, err)
	assert.Len(t, got, 2)

	// Bad chunks: not an array, empty, too large.
	for _, bad := range [][]byte{[]byte(`{"a":1}`), []byte(`[]`), []byte(`not json`)} {
		_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
			return models.AppendCobrowseChunk(ctx, tx, v, conv, s.PublicID, bad)
		})
		assert.Equal(t, "cobrowse_events", fieldCode(t, err, "events"), "%s", bad)
	}
	big := []byte(`["` + strings.Repeat("x", models.CobrowseChunkLimit) + `"]`)
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.AppendCobrowseChunk(ctx, tx, v, conv, s.PublicID, big)
	})
	assert.ErrorIs(t, err, models.ErrCobrowseTooLarge)

	// Commands while active.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.CobrowseCommand(ctx, tx, agent, conv, s.PublicID, models.CobrowseHighlight, 12, 0)
	}))
	err = factory.Write(db, func(tx models.Tx) error {
		return models.CobrowseCommand(ctx, tx, agent, conv, s.PublicID, "click", 12, 0)
	})
	assert.Equal(t, "cobrowse_command", fieldCode(t, err, "cmd"))

	ended, err := factory.Write1(db, func(tx models.Tx) (bool, error) {
		return models.EndCobrowse(ctx, tx, models.Actor{Customer: cust}, conv, s.PublicID)
	})
	require.NoError(t, err)
	assert.True(t, ended)
	ended, err = factory.Write1(db, func(tx models.Tx) (bool, error) {
		return models.EndCobrowse(ctx, tx, models.Actor{User: agent}, conv, s.PublicID)
	})
	require.NoError(t, err)
	assert.False(t, ended, "ending twice changes nothing")
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.AppendCobrowseChunk(ctx, tx, v, conv, s.PublicID, chunk)
	})
	assert.ErrorIs(t, err, models.ErrCobrowseState, "no chunk after the end")
	n, err := models.PurgeCobrowseChunks(ctx, db, s.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)

	// A new request after the end; declined this time.
	s2, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, agent, conv)
	})
	require.NoError(t, err)
	s2, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.AnswerCobrowse(ctx, tx, v, conv, s2.PublicID, false)
	})
	require.NoError(t, err)
	assert.Equal(t, models.CobrowseDeclined, s2.State)
	running, err := models.RunningCobrowse(ctx, db, conv.ID)
	require.NoError(t, err)
	assert.Nil(t, running)

	assert.Equal(t, []string{
		models.SysCobrowseRequested, models.SysCobrowseAccepted, models.SysCobrowseStarted, models.SysCobrowseEnded,
		models.SysCobrowseRequested, models.SysCobrowseDeclined,
	}, cobrowseLines(t, db, conv.ID))
	for _, e := range []string{models.SysCobrowseRequested, models.SysCobrowseAccepted, models.SysCobrowseDeclined, models.SysCobrowseStarted, models.SysCobrowseEnded} {
		m := models.Message{Kind: models.MessageSystem, AuthorType: models.AuthorSystem, Event: e}
		assert.True(t, m.VisibleToCustomer(), "%s is a status line both ways", e)
	}
}

// Access: another customer's visitor, staff without customer data rights
// and a visitor scoped to another conversation get ErrNotFound everywhere.
func TestCobrowseAccess(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	staff := factory.User(t, db, factory.UserOpts{})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	other, _ := factory.Customer(t, db)

	_, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, staff, conv)
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "staff without customer data rights")
	s, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, agent, conv)
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.AnswerCobrowse(ctx, tx, other, conv, s.PublicID, true)
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "another customer answers")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.AnswerCobrowse(ctx, tx, v, conv, s.PublicID, true)
	})
	require.NoError(t, err)
	s.State = models.CobrowseActive

	chunk := []byte(`[{"type":3,"data":{},"timestamp":2}]`)
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.AppendCobrowseChunk(ctx, tx, other, conv, s.PublicID, chunk)
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "another customer posts")
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.AppendCobrowseChunk(ctx, tx, v, conv, "00000000-0000-0000-0000-000000000000", chunk)
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "no such session")
	_, err = models.CobrowseChunksAfter(ctx, db, staff, conv, s, 0, 10)
	assert.ErrorIs(t, err, models.ErrNotFound, "staff who may not see the conversation read nothing")

	// The predicates themselves.
	assert.True(t, v.MayRecord(conv, s))
	assert.False(t, other.MayRecord(conv, s))
	assert.False(t, v.MayRecord(conv, &models.CobrowseSession{ConversationID: conv.ID, State: models.CobrowseRequested}))
	assert.True(t, models.CanCobrowse(agent, conv))
	assert.False(t, models.CanCobrowse(staff, conv))
	inactive := *agent
	inactive.Active = false
	assert.False(t, models.CanCobrowse(&inactive, conv))
}
