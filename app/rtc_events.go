package app

import (
	"context"
	"encoding/json"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// rtcMessage is the "rtc" stream event static/rtc.js reads: a session's new
// state, or the id of a signal addressed to this viewer, which it fetches
// (the payload never rides the stream: it may exceed NOTIFY's limit, and
// only its addressee may read it).
type rtcMessage struct {
	Session string `json:"pid"`
	Media   string `json:"media"`
	State   string `json:"state,omitempty"`
	Signal  int64  `json:"signal,omitempty"`
	From    string `json:"from,omitempty"`
	Agent   string `json:"agent,omitempty"`
	// Peer and Change: an agent joined or left the call.
	Peer   string `json:"peer,omitempty"`
	Change string `json:"change,omitempty"`
}

// rtcEvents picks the batch's rtc events about conv for the viewer peer:
// every transition, and the signals addressed to peer. It reports whether
// a transition was among them (the panel is rendered again).
func rtcEvents(b *live.Batch, evs []models.Event, may func(*models.Conversation) bool, peer string) (msgs []string, changed *models.Conversation) {
	for _, e := range evs {
		if e.Kind != models.EventRTC || e.ConversationID == nil {
			continue
		}
		cv := b.Conversations[*e.ConversationID]
		if cv == nil || !may(cv) {
			continue
		}
		d, ok := e.Data.(models.RTCEvent)
		if !ok {
			continue
		}
		m := rtcMessage{Session: d.PublicID, Media: d.Media, State: d.State, Peer: d.Peer, Change: d.Change}
		if d.Signal != 0 {
			if d.To != peer {
				continue
			}
			m.Signal, m.From = d.Signal, d.From
		} else {
			changed = cv
		}
		raw, err := json.Marshal(m)
		if err != nil {
			continue
		}
		msgs = append(msgs, string(raw))
	}
	return msgs, changed
}

// renderRTC is the desk's part of media sessions: for the open
// conversation, when the viewer may use media in it, the panel again after
// a transition and the rtc events for rtc.js.
func (v *deskViewer) renderRTC(ctx context.Context, b *live.Batch, evs []models.Event, add func(templ.Component) error) ([]string, error) {
	if err := v.renderRinging(ctx, b, evs, add); err != nil {
		return nil, err
	}
	if v.conv == "" {
		return nil, nil
	}
	msgs, changed := rtcEvents(b, evs, func(cv *models.Conversation) bool {
		return cv.PublicID == v.conv && models.CanUseMedia(v.user, cv)
	}, models.UserPeer(v.user.ID))
	if changed != nil {
		ss, err := models.MediaSessions(ctx, v.a.db, changed, mediaHistory)
		if err != nil {
			return nil, err
		}
		var may models.MediaRights
		if r := models.RunningMedia(ss); r != nil && r.IsCall() {
			if may, err = models.LoadMediaRights(ctx, v.a.db, v.user, changed); err != nil {
				return nil, err
			}
		}
		if err := add(views.MediaPanel(changed, ss, v.user, may, true)); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// renderRTC is the widget's part of media sessions: in the open
// conversation's view, the request or the sharing bar again after a
// transition, and the rtc events for rtc.js.
func (w *widgetStream) renderRTC(ctx context.Context, b *live.Batch, evs []models.Event) ([]templ.Component, []string, error) {
	if w.conv == nil {
		return nil, nil, nil
	}
	msgs, changed := rtcEvents(b, evs, func(cv *models.Conversation) bool {
		return cv.ID == w.conv.ID && w.owns(cv)
	}, models.PeerCustomer)
	if changed == nil {
		return nil, msgs, nil
	}
	ss, err := models.MediaSessions(ctx, w.a.db, changed, 1)
	if err != nil {
		return nil, nil, err
	}
	calls, err := models.CustomerCalls(ctx, w.a.db)
	if err != nil {
		return nil, nil, err
	}
	return []templ.Component{views.WidgetMedia(changed, models.RunningMedia(ss), calls, true)}, msgs, nil
}

// renderRinging alerts the viewer, on any desk page, to a customer's call
// that rings for them (models.MayTakeCustomerCall: the assignee, or the
// team, or the desk): a toast that chimes and opens the conversation, and
// takes it away once the call is answered, declined or over.
func (v *deskViewer) renderRinging(ctx context.Context, b *live.Batch, evs []models.Event, add func(templ.Component) error) error {
	for _, e := range evs {
		if e.Kind != models.EventRTC || e.ConversationID == nil {
			continue
		}
		d, ok := e.Data.(models.RTCEvent)
		if !ok || !d.ByCustomer || d.State == "" || d.Signal != 0 || d.Change != "" {
			continue
		}
		cv := b.Conversations[*e.ConversationID]
		if cv == nil {
			continue
		}
		may, err := models.MayTakeCustomerCall(v.a.db.WithContext(ctx), v.user, cv)
		if err != nil {
			return err
		}
		if !may {
			continue
		}
		s := &models.RTCSession{PublicID: d.PublicID, Kind: d.Media, ByCustomer: true}
		// Answered, declined or over: the alert goes.
		c := views.CallRingingGone(s)
		if d.State == models.RTCRequested {
			c = views.CallRinging(cv, s, v.user.NotifySound)
		}
		if err := add(c); err != nil {
			return err
		}
	}
	return nil
}
