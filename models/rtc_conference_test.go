package models_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func joinConv(t *testing.T, db *gorm.DB, u *models.User, conv *models.Conversation, hidden bool) {
	t.Helper()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.JoinConversation(context.Background(), tx, u, conv, hidden)
	}))
}

// A conference: the conversation's visible participants join its running
// call, up to MaxCallMembers people with the customer; others may not
// (ErrMayNotJoin, a hidden participant included); a join past the cap is
// ErrCallFull. Each join and leave is a status line; the call goes on
// while an agent is in it, the agent's place passes on, and the last
// agent's leave ends it. Signals are addressed within the call only.
func TestCallConference(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	kim := factory.User(t, db, factory.UserOpts{Name: "Kim", CustomerSupport: true})
	lee := factory.User(t, db, factory.UserOpts{Name: "Lee", CustomerSupport: true})
	max := factory.User(t, db, factory.UserOpts{Name: "Max", CustomerSupport: true})
	ghost := factory.User(t, db, factory.UserOpts{Name: "Ghost", CustomerSupport: true})
	stranger := factory.User(t, db, factory.UserOpts{Name: "Stranger", CustomerSupport: true})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	for _, u := range []*models.User{kim, lee, max} {
		joinConv(t, db, u, conv, false)
	}
	joinConv(t, db, ghost, conv, true)

	s, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.RequestMedia(ctx, tx, sam, conv, models.RTCAudio)
	})
	require.NoError(t, err)
	join := func(u *models.User) error {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.JoinCall(ctx, tx, u, conv, s.PublicID)
		})
		return err
	}
	// Not before the customer answered.
	assert.Equal(t, "rtc_not_running", fieldCode(t, join(kim), "rtc"))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, models.MediaActor{Visitor: v}, conv, s.PublicID, true, "")
	})
	require.NoError(t, err)

	require.NoError(t, join(kim))
	require.NoError(t, join(kim), "joining twice changes nothing")
	assert.ErrorIs(t, join(stranger), models.ErrMayNotJoin)
	assert.ErrorIs(t, join(ghost), models.ErrMayNotJoin, "a hidden participant cannot appear in the customer's call")
	require.NoError(t, join(lee)) // customer + Sam + Kim + Lee = 4
	assert.ErrorIs(t, join(max), models.ErrCallFull)

	ss, err := models.MediaSessions(ctx, db, conv, 1)
	require.NoError(t, err)
	require.Len(t, ss[0].Members, 3)
	assert.Equal(t, []string{"Sam", "Kim", "Lee"}, []string{ss[0].Members[0].Name, ss[0].Members[1].Name, ss[0].Members[2].Name})

	// Signals go to anyone in the call, nobody else.
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.PostSignalTo(ctx, tx, models.MediaActor{User: lee}, conv, s.PublicID, models.UserPeer(kim.ID), models.SignalOffer, json.RawMessage(`{"sdp":"x"}`))
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.PostSignalTo(ctx, tx, models.MediaActor{User: lee}, conv, s.PublicID, models.UserPeer(max.ID), models.SignalOffer, json.RawMessage(`{"sdp":"x"}`))
	})
	assert.Equal(t, "rtc_peer", fieldCode(t, err, "to"))
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.PostSignalTo(ctx, tx, models.MediaActor{User: max}, conv, s.PublicID, models.PeerCustomer, models.SignalOffer, json.RawMessage(`{"sdp":"x"}`))
	})
	assert.ErrorIs(t, err, models.ErrNotFound, "an agent not in the call cannot signal in it")

	leave := func(u *models.User) *models.RTCSession {
		s, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.LeaveCall(ctx, tx, u, conv, s.PublicID)
		})
		require.NoError(t, err)
		return s
	}
	// Max joins once Kim has left; Sam leaves: Lee... the next in line takes over.
	leave(kim)
	require.NoError(t, join(max))
	after := leave(sam)
	assert.Equal(t, models.RTCAccepted, after.State)
	require.NotNil(t, after.UserID)
	assert.Equal(t, lee.ID, *after.UserID, "the next agent in the call takes the agent's place")
	leave(lee)
	last := leave(max)
	assert.Equal(t, models.RTCEnded, last.State, "the last agent's leave ends the call")
	assert.Equal(t, "hangup", last.EndReason)

	assert.Equal(t, []string{"rtc_requested", "rtc_accepted", "rtc_joined", "rtc_joined", "rtc_left", "rtc_joined", "rtc_left", "rtc_left", "rtc_ended"}, rtcLines(t, db, conv.ID))
	evs := rtcEvents(t, db, conv.ID)
	var changes []string
	for _, e := range evs {
		if e.Change != "" {
			changes = append(changes, e.Change)
		}
	}
	assert.Equal(t, []string{"joined", "joined", "left", "joined", "left", "left"}, changes)
}

// The customer's call: refused while the desk setting is off; when on, it
// rings for the conversation's assignee (nobody else may answer it), who
// accepts and becomes its agent; the customer cannot answer it.
func TestCustomerCall(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	kim := factory.User(t, db, factory.UserOpts{Name: "Kim", CustomerSupport: true})
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	call := func() (*models.RTCSession, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.CallAgents(ctx, tx, v, conv, models.RTCVideo)
		})
	}
	_, err := call()
	assert.ErrorIs(t, err, models.ErrCustomerCallsOff, "off by default")

	require.NoError(t, models.SetCustomerCalls(ctx, db, true))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.CallAgents(ctx, tx, v, conv, models.RTCScreen)
	})
	assert.Equal(t, "rtc_kind", fieldCode(t, err, "kind"), "customers start calls only")

	// Unassigned, no team: it rings for the desk.
	mayKim, err := models.MayTakeCustomerCall(db, kim, conv)
	require.NoError(t, err)
	assert.True(t, mayKim)
	require.NoError(t, db.Exec("UPDATE conversations SET assignee_id = ? WHERE id = ?", sam.ID, conv.ID).Error)
	mayKim, err = models.MayTakeCustomerCall(db, kim, conv)
	require.NoError(t, err)
	assert.False(t, mayKim, "assigned: it rings for the assignee")

	s, err := call()
	require.NoError(t, err)
	assert.True(t, s.ByCustomer)
	assert.Nil(t, s.UserID)
	_, err = call()
	assert.Equal(t, "rtc_busy", fieldCode(t, err, "rtc"))

	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, models.MediaActor{Visitor: v}, conv, s.PublicID, true, "")
	})
	assert.Equal(t, "rtc_not_yours", fieldCode(t, err, "rtc"))
	_, err = factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, models.MediaActor{User: kim}, conv, s.PublicID, true, "")
	})
	assert.ErrorIs(t, err, models.ErrNotFound)

	got, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.AnswerMedia(ctx, tx, models.MediaActor{User: sam}, conv, s.PublicID, true, "")
	})
	require.NoError(t, err)
	assert.Equal(t, models.RTCAccepted, got.State)
	require.NotNil(t, got.UserID)
	assert.Equal(t, sam.ID, *got.UserID)
	// The agent offers to the customer.
	_, err = factory.Write1(db, func(tx models.Tx) (int64, error) {
		return models.PostSignal(ctx, tx, models.MediaActor{User: sam}, conv, s.PublicID, models.SignalOffer, json.RawMessage(`{"sdp":"x"}`))
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"rtc_requested", "rtc_accepted"}, rtcLines(t, db, conv.ID))
	var by bool
	require.NoError(t, db.Raw("SELECT (event_data->>'by_customer')::boolean FROM messages WHERE conversation_id = ? AND event = 'rtc_requested'", conv.ID).Scan(&by).Error)
	assert.True(t, by)
}

// The reaper ends a request that rang too long (a missed call), a running
// session nobody has shown a sign of life in for too long, an unanswered
// co-browsing request and a silent co-browsing session; it leaves fresh
// ones alone. Four reapers run at once: each session is ended exactly once
// (one status line, one event), whoever ends it.
func TestReapAbandonedConcurrently(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	sam := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	require.NoError(t, models.SetCustomerCalls(ctx, db, true))

	type conv struct {
		c *models.Conversation
		v *models.Visitor
	}
	mk := func() conv {
		v, cust := factory.Customer(t, db)
		_, c, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
		return conv{c, v}
	}
	request := func(c conv, kind string) *models.RTCSession {
		s, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.RequestMedia(ctx, tx, sam, c.c, kind)
		})
		require.NoError(t, err)
		return s
	}
	accept := func(c conv, s *models.RTCSession) {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
			return models.AnswerMedia(ctx, tx, models.MediaActor{Visitor: c.v}, c.c, s.PublicID, true, "")
		})
		require.NoError(t, err)
	}
	old := func(table, col string, id int64) {
		require.NoError(t, db.Exec("UPDATE "+table+" SET "+col+" = now() - interval '10 minutes' WHERE id = ?", id).Error)
	}

	// Media: a customer's call never answered; an agent's screen request
	// never answered; a call whose browsers went silent; a fresh request
	// and a live call (kept).
	missed := mk()
	mc, err := factory.Write1(db, func(tx models.Tx) (*models.RTCSession, error) {
		return models.CallAgents(ctx, tx, missed.v, missed.c, models.RTCAudio)
	})
	require.NoError(t, err)
	old("rtc_sessions", "created_at", mc.ID)
	unanswered := mk()
	us := request(unanswered, models.RTCScreen)
	old("rtc_sessions", "created_at", us.ID)
	silent := mk()
	ss := request(silent, models.RTCVideo)
	accept(silent, ss)
	old("rtc_sessions", "alive_at", ss.ID)
	fresh := mk()
	request(fresh, models.RTCAudio)
	live := mk()
	ls := request(live, models.RTCAudio)
	accept(live, ls)
	old("rtc_sessions", "created_at", ls.ID) // old, but alive
	ok, err := models.MediaAlive(ctx, db, models.MediaActor{Visitor: live.v}, live.c, ls.PublicID)
	require.NoError(t, err)
	assert.True(t, ok)

	// Co-browsing: a request never answered, a session gone quiet, an
	// active one that is not.
	cobReq := mk()
	cr, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
		return models.RequestCobrowse(ctx, tx, sam, cobReq.c)
	})
	require.NoError(t, err)
	old("cobrowse_sessions", "created_at", cr.ID)
	cobQuiet, cobBusy := mk(), mk()
	var quietID, busyID int64
	for _, x := range []struct {
		c  conv
		id *int64
	}{{cobQuiet, &quietID}, {cobBusy, &busyID}} {
		s, err := factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
			return models.RequestCobrowse(ctx, tx, sam, x.c.c)
		})
		require.NoError(t, err)
		_, err = factory.Write1(db, func(tx models.Tx) (*models.CobrowseSession, error) {
			return models.AnswerCobrowse(ctx, tx, x.c.v, x.c.c, s.PublicID, true)
		})
		require.NoError(t, err)
		*x.id = s.ID
		old("cobrowse_sessions", "created_at", s.ID)
	}
	old("cobrowse_sessions", "alive_at", quietID)

	o := models.ReapOpts{Ring: time.Minute, Idle: 2 * time.Minute}
	var wg sync.WaitGroup
	results := make([]models.Reaped, 4)
	errs := make([]error, 4)
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = factory.Write1(db, func(tx models.Tx) (models.Reaped, error) {
				return models.ReapAbandoned(ctx, tx, time.Now(), o)
			})
		}()
	}
	close(start)
	wg.Wait()
	var total models.Reaped
	for i := range results {
		require.NoError(t, errs[i])
		total.Missed += results[i].Missed
		total.Abandoned += results[i].Abandoned
		total.Cobrowse += results[i].Cobrowse
	}
	assert.Equal(t, models.Reaped{Missed: 2, Abandoned: 1, Cobrowse: 2}, total, "each abandoned session ended exactly once")

	state := func(table string, c conv) string {
		var st string
		require.NoError(t, db.Raw("SELECT state FROM "+table+" WHERE conversation_id = ? ORDER BY id DESC LIMIT 1", c.c.ID).Scan(&st).Error)
		return st
	}
	for _, c := range []conv{missed, unanswered, silent} {
		assert.Equal(t, models.RTCEnded, state("rtc_sessions", c))
		lines := rtcLines(t, db, c.c.ID)
		assert.Equal(t, "rtc_ended", lines[len(lines)-1])
		n := 0
		for _, l := range lines {
			if l == "rtc_ended" {
				n++
			}
		}
		assert.Equal(t, 1, n, "one end line")
		evs := rtcEvents(t, db, c.c.ID)
		assert.Equal(t, models.RTCEnded, evs[len(evs)-1].State)
	}
	var reason string
	require.NoError(t, db.Raw("SELECT end_reason FROM rtc_sessions WHERE id = ?", mc.ID).Scan(&reason).Error)
	assert.Equal(t, models.ReasonNoAnswer, reason)
	require.NoError(t, db.Raw("SELECT end_reason FROM rtc_sessions WHERE id = ?", ss.ID).Scan(&reason).Error)
	assert.Equal(t, models.ReasonAbandoned, reason)
	var sys bool
	require.NoError(t, db.Raw("SELECT (event_data->>'by_system')::boolean FROM messages WHERE conversation_id = ? AND event = 'rtc_ended'", missed.c.ID).Scan(&sys).Error)
	assert.True(t, sys)

	assert.Equal(t, models.RTCRequested, state("rtc_sessions", fresh))
	assert.Equal(t, models.RTCAccepted, state("rtc_sessions", live))
	assert.Equal(t, models.CobrowseEnded, state("cobrowse_sessions", cobReq))
	assert.Equal(t, models.CobrowseEnded, state("cobrowse_sessions", cobQuiet))
	assert.Equal(t, models.CobrowseActive, state("cobrowse_sessions", cobBusy))
	var endedLines int64
	require.NoError(t, db.Raw("SELECT count(*) FROM messages WHERE event = ? AND conversation_id IN (?, ?)", models.SysCobrowseEnded, cobReq.c.ID, cobQuiet.c.ID).Scan(&endedLines).Error)
	assert.EqualValues(t, 2, endedLines)

	// Running again finds nothing.
	again, err := factory.Write1(db, func(tx models.Tx) (models.Reaped, error) {
		return models.ReapAbandoned(ctx, tx, time.Now(), o)
	})
	require.NoError(t, err)
	assert.Zero(t, again.Total())
}
