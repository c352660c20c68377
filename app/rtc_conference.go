package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Conference calls and calls the customer starts (models/rtc_conference.go).

// rtcRefusal answers the refusals of calls as JSON rtc.js shows: a full
// call (409), an agent who may not join or a desk that does not let
// customers call (403). Anything else goes to rtcJSON.
func (a *App) rtcRefusal(c echo.Context, s *models.RTCSession, err error) error {
	var status int
	var msg string
	switch {
	case errors.Is(err, models.ErrCallFull):
		status, msg = http.StatusConflict, views.T(ctxOf(c), "rtc2.call_full", map[string]any{"Max": models.MaxCallMembers})
	case errors.Is(err, models.ErrMayNotJoin):
		status, msg = http.StatusForbidden, views.T(ctxOf(c), "rtc2.may_not_join")
	case errors.Is(err, models.ErrCustomerCallsOff):
		status, msg = http.StatusForbidden, views.T(ctxOf(c), "rtc2.calls_off")
	default:
		return a.rtcJSON(c, s, err)
	}
	return c.JSON(status, map[string]string{"error": msg})
}

// callAgents is the customer's Call or Video call (form field kind), when
// the desk allows it: 403 when it does not.
func (a *App) callAgents(c echo.Context) error {
	actor, conv, err := a.rtcWidget(c)
	if err != nil {
		return err
	}
	var s *models.RTCSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		s, err = models.CallAgents(ctxOf(c), tx, actor.Visitor, conv, c.FormValue("kind"))
		return err
	})
	return a.rtcRefusal(c, s, err)
}

// answerCall is an agent's Accept or Decline of the customer's call.
func (a *App) answerCall(c echo.Context) error {
	actor, conv, err := a.rtcDesk(c)
	if err != nil {
		return err
	}
	var s *models.RTCSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		s, err = models.AnswerMedia(ctxOf(c), tx, actor, conv, c.Param("sid"), c.FormValue("accept") == "1", c.FormValue("reason"))
		return err
	})
	return a.rtcJSON(c, s, err)
}

// joinCall puts another agent of the conversation in its running call
// (409 when it has models.MaxCallMembers people already).
func (a *App) joinCall(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	var s *models.RTCSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		s, err = models.JoinCall(ctxOf(c), tx, currentUser(c), conv, c.Param("sid"))
		return err
	})
	if err != nil {
		return a.rtcRefusal(c, nil, err)
	}
	out := rtcState(s)
	peers := []string{models.PeerCustomer}
	for _, m := range s.Members {
		if m.UserID != currentUser(c).ID {
			peers = append(peers, m.Peer())
		}
	}
	out["peers"] = peers // the joiner offers a connection to each
	return c.JSON(http.StatusOK, out)
}

// leaveCall takes the agent out of the call; the last agent's leave ends it.
func (a *App) leaveCall(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	var s *models.RTCSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		s, err = models.LeaveCall(ctxOf(c), tx, currentUser(c), conv, c.Param("sid"))
		return err
	})
	return a.rtcJSON(c, s, err)
}

// mediaAlive is a browser's heartbeat while one of its connections is up
// (models.MediaAlive): 204, or 410 when the session is not running (the
// page then tears its side down).
func (a *App) mediaAlive(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		ok, err := models.MediaAlive(ctxOf(c), a.db, actor, conv, c.Param("sid"))
		if err != nil {
			return err
		}
		if !ok {
			return c.NoContent(http.StatusGone)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// saveCustomerCalls turns on or off the customer's Call button (Admin →
// Conversations; off by default).
func (a *App) saveCustomerCalls(c echo.Context) error {
	if err := models.SetCustomerCalls(ctxOf(c), a.db, c.FormValue("customer_calls") == "1"); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "rtc2.calls_saved"))
	return a.redirect(c, "/admin/conversations")
}
