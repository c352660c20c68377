package app

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Remote support over WebRTC (issue 11): the HTTP side of media sessions.
// Both sides talk through the same handlers: the desk's under
// /conversations/:pid/rtc (staff session, CSRF), the widget's and the
// full-page chat's under /widget/conversations/:pid/rtc (the visitor
// header, which a cross-site form cannot send). State changes go through
// the writer (models.RequestMedia, AnswerMedia, StartMedia, EndMedia,
// PostSignal) and reach the other side as rtc events on the existing
// streams; a signal's payload is fetched by its addressee (FindSignal).
// static/rtc.js, loaded on first use, drives the browsers.

// mediaHistory is how many media sessions the desk's panel lists.
const mediaHistory = 5

// rtcSide resolves who is acting on which conversation.
type rtcSide func(c echo.Context) (models.MediaActor, *models.Conversation, error)

// rtcDesk is the agent's side: a conversation they may see.
func (a *App) rtcDesk(c echo.Context) (models.MediaActor, *models.Conversation, error) {
	conv, err := a.conversation(c)
	if err != nil {
		return models.MediaActor{}, nil, err
	}
	return models.MediaActor{User: currentUser(c)}, conv, nil
}

// rtcWidget is the customer's side: a conversation their visitor sees.
func (a *App) rtcWidget(c echo.Context) (models.MediaActor, *models.Conversation, error) {
	v := currentVisitor(c)
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		return models.MediaActor{}, nil, err
	}
	return models.MediaActor{Visitor: v}, conv, nil
}

// rtcJSON answers a media request: the session's state, or a 422 with the
// reason in the viewer's language (a second request while one runs, a
// malformed signal), which rtc.js shows.
func (a *App) rtcJSON(c echo.Context, s *models.RTCSession, err error) error {
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		fe := ve.Errors[0]
		return c.JSON(http.StatusUnprocessableEntity, map[string]string{"field": fe.Field, "code": fe.Code, "error": views.T(ctxOf(c), "error."+fe.Code, fe.Data)})
	case err != nil:
		return err
	case s == nil:
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, rtcState(s))
}

func rtcState(s *models.RTCSession) map[string]any {
	out := map[string]any{"pid": s.PublicID, "media": s.Kind, "state": s.State, "by_customer": s.ByCustomer}
	if s.UserID != nil {
		out["agent"] = models.UserPeer(*s.UserID)
	}
	return out
}

// requestMedia is the agent's "Ask to see the screen", "Show my screen",
// "Call" or "Video call" (form field kind).
func (a *App) requestMedia(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	var s *models.RTCSession
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		s, err = models.RequestMedia(ctxOf(c), tx, currentUser(c), conv, c.FormValue("kind"))
		return err
	})
	return a.rtcJSON(c, s, err)
}

// answerMedia is the customer's Accept or Decline (accept=1 or 0, and the
// reason when their browser decided: denied, unsupported).
func (a *App) answerMedia(c echo.Context) error {
	actor, conv, err := a.rtcWidget(c)
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

// startMedia: media flows (either side reports its first frame or sound).
func (a *App) startMedia(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		var s *models.RTCSession
		err = a.write(ctxOf(c), func(tx models.Tx) error {
			var err error
			s, err = models.StartMedia(ctxOf(c), tx, actor, conv, c.Param("sid"))
			return err
		})
		return a.rtcJSON(c, s, err)
	}
}

// endMedia: either side stops (reason: hangup, cancelled, no_answer,
// failed, left, denied, unsupported). rtc.js also sends it with
// fetch(keepalive) when the page goes away.
func (a *App) endMedia(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		var s *models.RTCSession
		err = a.write(ctxOf(c), func(tx models.Tx) error {
			var err error
			s, err = models.EndMedia(ctxOf(c), tx, actor, conv, c.Param("sid"), c.FormValue("reason"))
			return err
		})
		return a.rtcJSON(c, s, err)
	}
}

// signalBodyLimit caps a signal's request: the payload's own cap
// (models.MaxSignalBytes) plus its envelope. A larger declared body is a
// 413 unread (edge.go); a payload over its cap inside it is a 422.
const signalBodyLimit = models.MaxSignalBytes + 4<<10

// postSignal stores a signalling message for the other side
// ({"kind": "offer"|"answer"|"ice"|"bye", "payload": {…}}, JSON) and rings
// its id. 201 with {"id"}; bad JSON or a bad kind or payload is a 422.
func (a *App) postSignal(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return bodyError(err)
		}
		var in struct {
			Kind    string          `json:"kind"`
			To      string          `json:"to"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return a.rtcJSON(c, nil, models.Invalid("payload", "rtc_signal_json", nil))
		}
		var id int64
		err = a.write(ctxOf(c), func(tx models.Tx) error {
			var err error
			id, err = models.PostSignalTo(ctxOf(c), tx, actor, conv, c.Param("sid"), in.To, in.Kind, in.Payload)
			return err
		})
		if err != nil {
			return a.rtcJSON(c, nil, err)
		}
		return c.JSON(http.StatusCreated, map[string]int64{"id": id})
	}
}

// showSignal is a signal's payload, for its addressee only (404 for anyone
// else, and once its session has ended).
func (a *App) showSignal(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return models.ErrNotFound
		}
		sig, err := models.FindSignal(ctxOf(c), a.db, actor, conv, id)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, sig)
	}
}

// showPendingSignals lists the signals of session :sid addressed to the
// caller after ?after=<id> (models.PendingSignals), for rtc.js's catch-up.
func (a *App) showPendingSignals(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		after, err := strconv.ParseInt(cmp.Or(c.QueryParam("after"), "0"), 10, 64)
		if err != nil || after < 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "after: a signal id")
		}
		sigs, err := models.PendingSignals(ctxOf(c), a.db, actor, conv, c.Param("sid"), after)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, sigs)
	}
}

// showICE hands a browser the ICE servers for one of its conversation's
// sessions, with TURN credentials for that session (rtc_ice.go).
func (a *App) showICE(side rtcSide) echo.HandlerFunc {
	return func(c echo.Context) error {
		actor, conv, err := side(c)
		if err != nil {
			return err
		}
		sid := c.QueryParam("session")
		ss, err := models.MediaSessions(ctxOf(c), a.db, conv, 1)
		if err != nil {
			return err
		}
		if len(ss) == 0 || ss[0].PublicID != sid || !ss[0].Running() {
			return models.ErrNotFound
		}
		if actor.User != nil && !models.CanUseMedia(actor.User, conv) {
			return models.ErrNotFound
		}
		// Its agent, the agents who joined the call, or the customer.
		if in, err := models.MediaPeerIn(ctxOf(c), a.db, actor, &ss[0]); err != nil || !in {
			if err == nil {
				err = models.ErrNotFound
			}
			return err
		}
		ice, err := a.iceFor(sid)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.JSON(http.StatusOK, ice)
	}
}
