package models_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// rtcLines are the conversation's media status lines, in order.
func rtcLines(t *testing.T, db *gorm.DB, convID int64) []string {
	t.Helper()
	var ev []string
	require.NoError(t, db.Raw("SELECT event FROM messages WHERE conversation_id = ? AND event LIKE 'rtc_%' ORDER BY id", convID).Scan(&ev).Error)
	return ev
}

func rtcEvents(t *testing.T, db *gorm.DB, convID int64) []models.RTCEvent {
	t.Helper()
	var evs []models.Event
	require.NoError(t, db.Raw("SELECT id, kind, conversation_id, data FROM events WHERE kind = ? AND conversation_id = ? ORDER BY id", models.EventRTC, convID).Scan(&evs).Error)
	out := make([]models.RTCEvent, len(evs))
	for i, e := range evs {
		out[i] = e.Data.(models.RTCEvent)
	}
	return out
}

// A session goes requested → accepted → started → ended, one status line
// (the customer sees each) and one event per transition; the duration is
// recorded; a second request while one runs is refused with a reason.
func TestMediaSessionLifecycle(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	customer := models.MediaActor{Visitor: v}
	staff := models.MediaActor{User: agent}

	s, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, models.RTCScreen)
	})
	require.NoError(t, err)
	assert.Equal(t, models.RTCRequested, s.State)
	assert.Len(t, s.PublicID, 36)

	// One running session per conversation, whatever its kind.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, models.RTCAudio)
	})
	assert.Equal(t, "rtc_busy", fieldCode(t, err, "rtc"))

	// The agent cannot answer their own request; no signal before accepted.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, staff, conv, s.PublicID, true, "")
	})
	assert.Equal(t, "rtc_not_yours", fieldCode(t, err, "rtc"))
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.PostSignal(ctx, tx, customer, conv, s.PublicID, models.SignalOffer, json.RawMessage(`{"sdp":"x"}`))
	})
	assert.Equal(t, "rtc_not_running", fieldCode(t, err, "rtc"))

	s, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, customer, conv, s.PublicID, true, "")
	})
	require.NoError(t, err)
	assert.Equal(t, models.RTCAccepted, s.State)
	// Answering twice is refused.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, customer, conv, s.PublicID, false, "")
	})
	assert.Equal(t, "rtc_not_requested", fieldCode(t, err, "rtc"))

	// Both sides report the first frame: one started line.
	for _, a := range []models.MediaActor{customer, staff} {
		_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.StartMedia(ctx, tx, a, conv, s.PublicID)
		})
		require.NoError(t, err)
	}
	// Both sides hang up at once: one ended line.
	var wg sync.WaitGroup
	for _, a := range []models.MediaActor{customer, staff} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
				return models.EndMedia(ctx, tx, a, conv, s.PublicID, "hangup")
			})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, []string{models.SysRTCRequested, models.SysRTCAccepted, models.SysRTCStarted, models.SysRTCEnded}, rtcLines(t, db, conv.ID))
	var states []string
	for _, e := range rtcEvents(t, db, conv.ID) {
		states = append(states, e.State)
		assert.Equal(t, s.PublicID, e.PublicID)
	}
	assert.Equal(t, []string{models.RTCRequested, models.RTCAccepted, models.RTCStarted, models.RTCEnded}, states)
	var stored models.RTCSession
	require.NoError(t, db.Where("public_id = ?", s.PublicID).Take(&stored).Error)
	assert.Equal(t, models.RTCEnded, stored.State)
	assert.NotNil(t, stored.StartedAt)
	assert.NotNil(t, stored.EndedAt)
	assert.Equal(t, "hangup", stored.EndReason)
	// The customer sees every line of it.
	var lines []models.Message
	require.NoError(t, db.Where("conversation_id = ? AND event LIKE 'rtc_%'", conv.ID).Find(&lines).Error)
	for _, m := range lines {
		assert.True(t, m.VisibleToCustomer(), m.Event)
	}

	// Over: a new request is taken; a decline says why and frees the slot.
	s2, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, models.RTCScreen)
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, customer, conv, s2.PublicID, false, "bogus")
	})
	assert.Equal(t, "rtc_reason", fieldCode(t, err, "reason"))
	s2, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, customer, conv, s2.PublicID, false, "unsupported")
	})
	require.NoError(t, err)
	assert.Equal(t, models.RTCDeclined, s2.State)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, models.RTCVideo)
	})
	require.NoError(t, err)
	ss, err := models.MediaSessions(ctx, db, conv, 10)
	require.NoError(t, err)
	require.Len(t, ss, 3)
	assert.Equal(t, models.RTCVideo, models.RunningMedia(ss).Kind)
}

// Signals go from one side to the other; only the addressee reads them,
// only in their conversation; sizes and shapes are checked; an ended
// session's signals are gone.
func TestMediaSignalAccess(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	colleague := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	noSupport := factory.User(t, db, factory.UserOpts{})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	otherV, otherCust := factory.Customer(t, db)
	_, otherConv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: otherCust})
	customer := models.MediaActor{Visitor: v}

	// Staff without customer data rights may not start one.
	_, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, noSupport, conv, models.RTCScreen)
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, "telepathy")
	})
	assert.Equal(t, "rtc_kind", fieldCode(t, err, "kind"))

	s, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, agent, conv, models.RTCScreen)
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, customer, conv, s.PublicID, true, "")
	})
	require.NoError(t, err)

	post := func(a models.MediaActor, c *models.Conversation, kind, payload string) (int64, error) {
		return factory.Write1(db, func(tx models.Tx) (int64, error) {
			return models.PostSignal(ctx, tx, a, c, s.PublicID, kind, json.RawMessage(payload))
		})
	}
	offer, err := post(customer, conv, models.SignalOffer, `{"type":"offer","sdp":"v=0"}`)
	require.NoError(t, err)
	// Bad shapes.
	_, err = post(customer, conv, "smoke", `{}`)
	assert.Equal(t, "rtc_signal_kind", fieldCode(t, err, "kind"))
	_, err = post(customer, conv, models.SignalICE, `"just a string"`)
	assert.Equal(t, "rtc_signal_json", fieldCode(t, err, "payload"))
	_, err = post(customer, conv, models.SignalICE, `{"a":`)
	assert.Equal(t, "rtc_signal_json", fieldCode(t, err, "payload"))
	_, err = post(customer, conv, models.SignalICE, `{"a":"`+strings.Repeat("x", models.MaxSignalBytes)+`"}`)
	assert.Equal(t, "rtc_signal_size", fieldCode(t, err, "payload"))
	// Another conversation's customer, a colleague not in the session, the
	// session named in the wrong conversation: not found.
	_, err = post(models.MediaActor{Visitor: otherV}, conv, models.SignalICE, `[]`)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = post(models.MediaActor{User: colleague}, conv, models.SignalICE, `[]`)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = post(models.MediaActor{Visitor: otherV}, otherConv, models.SignalICE, `[]`)
	assert.ErrorIs(t, err, models.ErrNotFound)

	// The addressee reads it; the sender, a colleague, another customer do not.
	sig, err := models.FindSignal(ctx, db, models.MediaActor{User: agent}, conv, offer)
	require.NoError(t, err)
	assert.Equal(t, models.PeerCustomer, sig.FromPeer)
	assert.Equal(t, models.UserPeer(agent.ID), sig.ToPeer)
	assert.Equal(t, s.PublicID, sig.Session)
	assert.JSONEq(t, `{"type":"offer","sdp":"v=0"}`, string(sig.Payload))
	for _, a := range []models.MediaActor{customer, {User: colleague}, {User: noSupport}} {
		_, err := models.FindSignal(ctx, db, a, conv, offer)
		assert.ErrorIs(t, err, models.ErrNotFound)
	}
	_, err = models.FindSignal(ctx, db, models.MediaActor{Visitor: otherV}, otherConv, offer)
	assert.ErrorIs(t, err, models.ErrNotFound)

	answer, err := post(models.MediaActor{User: agent}, conv, models.SignalAnswer, `{"type":"answer","sdp":"v=0"}`)
	require.NoError(t, err)
	got, err := models.FindSignal(ctx, db, customer, conv, answer)
	require.NoError(t, err)
	assert.Equal(t, models.PeerCustomer, got.ToPeer)
	// Each signal rang with its id only, addressed.
	evs := rtcEvents(t, db, conv.ID)
	last := evs[len(evs)-1]
	assert.Equal(t, answer, last.Signal)
	assert.Equal(t, models.PeerCustomer, last.To)

	// A colleague may end it (a session left running must not block the
	// conversation), though not take part in it.
	s3, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.EndMedia(ctx, tx, models.MediaActor{User: noSupport}, conv, s.PublicID, "hangup")
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "but not staff without media rights")
	assert.Nil(t, s3)

	// Ended by the colleague: the signals are deleted.
	ended, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.EndMedia(ctx, tx, models.MediaActor{User: colleague}, conv, s.PublicID, "left")
	})
	require.NoError(t, err)
	assert.Equal(t, models.RTCEnded, ended.State)
	_, err = models.FindSignal(ctx, db, customer, conv, answer)
	assert.ErrorIs(t, err, models.ErrNotFound)
	var n int64
	require.NoError(t, db.Model(&models.RTCSignal{}).Count(&n).Error)
	assert.Zero(t, n)
}
