package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Remote support over WebRTC: a media session between the agent who asked
// for it and the customer of a customer conversation. The browsers carry the
// media peer to peer (or through TURN); Parley only relays their signalling
// (PostSignal, FindSignal) and records the session's life:
//
//	requested → accepted → started → ended
//	          ↘ declined             ↗
//	requested, accepted ─────────────
//
// Every transition is a status line in the thread (the customer sees them:
// they concern them) and an RTCEvent, so open desks and the widget follow
// it live. One session runs per conversation at a time.

// Kinds of media session.
const (
	RTCScreen      = "screen"       // the customer shares their screen with the agent
	RTCAgentScreen = "agent_screen" // the agent shows their screen to the customer
	RTCAudio       = "audio"        // a voice call
	RTCVideo       = "video"        // a video call
)

// States of a media session.
const (
	RTCRequested = "requested"
	RTCAccepted  = "accepted"
	RTCDeclined  = "declined"
	RTCStarted   = "started"
	RTCEnded     = "ended"
)

// Status lines of media sessions (all in customerEvents).
const (
	SysRTCRequested = "rtc_requested"
	SysRTCAccepted  = "rtc_accepted"
	SysRTCDeclined  = "rtc_declined"
	SysRTCStarted   = "rtc_started"
	SysRTCEnded     = "rtc_ended"
)

// PeerCustomer is the customer's side of a session in signalling; an agent
// is UserPeer(id).
const PeerCustomer = "customer"

// UserPeer is the agent userID's side of a session in signalling.
func UserPeer(userID int64) string { return "u" + strconv.FormatInt(userID, 10) }

// Why a session was declined or ended (RTCSession.EndReason, the status
// lines' "reason"). Anything else is refused.
var rtcReasons = map[string]bool{
	"":            true,
	"hangup":      true, // either side stopped it
	"cancelled":   true, // the requester withdrew a request
	"no_answer":   true, // nobody answered the request in time
	"failed":      true, // the connection could not be made or dropped (ICE)
	"left":        true, // the other side closed the page
	"denied":      true, // the browser's permission was refused
	"unsupported": true, // the browser cannot capture the screen (mobile)
	"abandoned":   true, // nobody's connection was up for too long (rtc_reap.go)
}

// MaxSignalBytes caps one signalling payload (an SDP offer with audio,
// video, screen and a data channel is about 10 KB).
const MaxSignalBytes = 64 << 10

// RTCSession is one media session (migration 00028).
type RTCSession struct {
	ID             int64
	PublicID       string `gorm:"->"`
	ConversationID int64
	Kind           string
	State          string
	UserID         *int64
	UserName       string
	EndReason      string
	CreatedAt      time.Time `gorm:"->"`
	AnsweredAt     *time.Time
	StartedAt      *time.Time
	EndedAt        *time.Time
	// ByCustomer: the customer started this call; an agent answers it
	// (rtc_conference.go).
	ByCustomer bool
	// AliveAt is the last sign of life of a browser in the session (the
	// reaper ends a running session where it is too old: rtc_reap.go).
	AliveAt time.Time `gorm:"->"`
	// Members are the agents in the call now, in the order they joined
	// (filled by MediaSessions for the running session).
	Members []RTCMember `gorm:"-"`
}

// TableName maps RTCSession to rtc_sessions.
func (RTCSession) TableName() string { return "rtc_sessions" }

// Running reports whether s still holds its conversation's one slot.
func (s *RTCSession) Running() bool {
	return s.State == RTCRequested || s.State == RTCAccepted || s.State == RTCStarted
}

// Duration is how long its media flowed (0 if it never started).
func (s *RTCSession) Duration() time.Duration {
	if s.StartedAt == nil {
		return 0
	}
	end := time.Now()
	if s.EndedAt != nil {
		end = *s.EndedAt
	}
	return end.Sub(*s.StartedAt).Round(time.Second)
}

// AgentPeer is the signalling name of the session's agent.
func (s *RTCSession) AgentPeer() string {
	if s.UserID == nil {
		return ""
	}
	return UserPeer(*s.UserID)
}

// RTCSignal is one stored signalling message.
type RTCSignal struct {
	ID        int64           `json:"id"`
	SessionID int64           `json:"-"`
	FromPeer  string          `json:"from"`
	ToPeer    string          `json:"to"`
	Kind      string          `json:"kind"`
	Payload   json.RawMessage `json:"payload" gorm:"type:jsonb"`
	CreatedAt time.Time       `json:"-" gorm:"->"`
	// Session is the session's public id (filled by FindSignal).
	Session string `json:"session" gorm:"-"`
}

// TableName maps RTCSignal to rtc_signals.
func (RTCSignal) TableName() string { return "rtc_signals" }

// RTCEvent announces a media session's change (State set: a transition,
// with its status line) or a new signal (Signal set, addressed To a peer).
// It carries ids only: the signal's payload is fetched by its addressee.
type RTCEvent struct {
	Session  int64  `json:"session"`
	PublicID string `json:"pid"`
	Media    string `json:"media,omitempty"`
	State    string `json:"state,omitempty"`
	Signal   int64  `json:"signal,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	// Peer and Change: an agent joined or left a call (rtc_conference.go).
	Peer   string `json:"peer,omitempty"`
	Change string `json:"change,omitempty"`
	// ByCustomer: a call the customer started (it rings for agents).
	ByCustomer bool `json:"bc,omitempty"`
}

// Kind implements EventData.
func (RTCEvent) Kind() string { return EventRTC }

// MediaActor is who acts on a media session: an agent (User) or the
// conversation's customer through their visitor (Visitor).
type MediaActor struct {
	User    *User
	Visitor *Visitor
}

// Peer is the actor's signalling name.
func (a MediaActor) Peer() string {
	if a.User != nil {
		return UserPeer(a.User.ID)
	}
	return PeerCustomer
}

// mayUse checks the actor against conv with the rules of access.go.
func (a MediaActor) mayUse(conv *Conversation) bool {
	if a.User != nil {
		return CanUseMedia(a.User, conv)
	}
	return a.Visitor != nil && a.Visitor.Sees(conv)
}

// inSession reports whether the actor is one of s's sides: the customer,
// its agent, or (tx given) an agent who joined the call and has not left.
func (a MediaActor) inSession(tx *gorm.DB, s *RTCSession) (bool, error) {
	if a.User == nil {
		return a.Visitor != nil, nil
	}
	if s.UserID != nil && *s.UserID == a.User.ID {
		return true, nil
	}
	if tx == nil {
		return false, nil
	}
	var in bool
	err := tx.Raw("SELECT EXISTS (SELECT 1 FROM rtc_members WHERE session_id = ? AND user_id = ? AND left_at IS NULL)", s.ID, a.User.ID).Scan(&in).Error
	return in, err
}

// ErrRTCBusy is the refusal of a second session while one runs.
var ErrRTCBusy = errors.New("a media session is already running in this conversation")

// RequestMedia starts a session of kind in conv for the agent u: the
// customer is asked (a status line and an RTCEvent the widget shows as a
// prompt). A session already running is a ValidationError on "rtc"
// (rtc_busy), as is a kind that does not exist; staff who may not use media
// in conv (CanUseMedia) get ErrNotFound.
func RequestMedia(ctx context.Context, t Tx, u *User, conv *Conversation, kind string) (*RTCSession, error) {
	switch kind {
	case RTCScreen, RTCAgentScreen, RTCAudio, RTCVideo:
	default:
		return nil, Invalid("kind", "rtc_kind", nil)
	}
	a := MediaActor{User: u}
	if !a.mayUse(conv) {
		return nil, ErrNotFound
	}
	s := &RTCSession{ConversationID: conv.ID, Kind: kind, State: RTCRequested, UserID: &u.ID, UserName: u.Name}
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := lockNoMediaRunning(tx, conv); err != nil {
			return err
		}
		if err := tx.Select("ConversationID", "Kind", "State", "UserID", "UserName").Create(s).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT public_id, created_at FROM rtc_sessions WHERE id = ?", s.ID).Row().Scan(&s.PublicID, &s.CreatedAt); err != nil {
			return err
		}
		if err := addMember(tx, s, u); err != nil {
			return err
		}
		return rtcTransition(t, conv, s, a, SysRTCRequested, nil)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "request %s in conversation %d", kind, conv.ID)
	}
	return s, nil
}

// rtcTransition writes s's status line and its RTCEvent.
func rtcTransition(t Tx, conv *Conversation, s *RTCSession, a MediaActor, line string, extra JSONMap) error {
	data := JSONMap{"kind": s.Kind, "session": s.PublicID}
	switch {
	case a.User == nil && a.Visitor == nil:
		data["by_system"] = true // the reaper (rtc_reap.go)
	case a.User != nil:
		data["by"] = a.User.Name
		var hidden bool
		if err := t.db.Raw(`SELECT `+hiddenAuthorSQL, map[string]any{"conv": conv.ID, "user_id": a.User.ID}).Scan(&hidden).Error; err != nil {
			return err
		}
		if hidden {
			data["by_hidden"] = true
		}
	default:
		data["by_customer"] = true
	}
	for k, v := range extra {
		data[k] = v
	}
	if _, err := insertSystemLine(t, conv, line, data); err != nil {
		return err
	}
	return appendEvent(t, Event{ConversationID: &conv.ID, Data: RTCEvent{Session: s.ID, PublicID: s.PublicID, Media: s.Kind, State: s.State, ByCustomer: s.ByCustomer}})
}

// lockSession loads conv's session pid for update; a session of another
// conversation, or an actor who is neither of its sides, is ErrNotFound
// (unless anyAgent: any agent who may use media in conv, for ending).
func lockSession(tx *gorm.DB, a MediaActor, conv *Conversation, pid string, anyAgent ...bool) (*RTCSession, error) {
	if !a.mayUse(conv) || !validUUID(pid) {
		return nil, ErrNotFound
	}
	var s RTCSession
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("public_id = ? AND conversation_id = ?", pid, conv.ID).Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if len(anyAgent) > 0 && anyAgent[0] && a.User != nil {
		return &s, nil
	}
	in, err := a.inSession(tx, &s)
	if err != nil {
		return nil, err
	}
	if !in {
		return nil, ErrNotFound
	}
	return &s, nil
}

// validUUID reports whether s has the shape of a public id.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') || (r >= 'A' && r <= 'F'):
		default:
			return false
		}
	}
	return true
}

// AnswerMedia is the customer's answer to a request: accepted (the browser
// then offers its media) or declined, with the reason when the browser
// decided (denied, unsupported). Only the side that was asked answers, and
// only a request: anything else is a ValidationError on "rtc"
// (rtc_not_requested) and changes nothing.
func AnswerMedia(ctx context.Context, t Tx, a MediaActor, conv *Conversation, pid string, accept bool, reason string) (*RTCSession, error) {
	if !rtcReasons[reason] {
		return nil, Invalid("reason", "rtc_reason", nil)
	}
	var s *RTCSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		// Any agent finds it: the customer's call is answered by one of
		// the agents it rings for (checked below).
		if s, err = lockSession(tx, a, conv, pid, a.User != nil); err != nil {
			return err
		}
		if (a.User != nil) != s.ByCustomer {
			return Invalid("rtc", "rtc_not_yours", nil) // the side that was asked answers
		}
		if s.State != RTCRequested {
			return Invalid("rtc", "rtc_not_requested", nil)
		}
		now := time.Now()
		s.AnsweredAt = &now
		line := SysRTCAccepted
		upd := map[string]any{"answered_at": now, "alive_at": now}
		if a.User != nil {
			// The customer's call: the agent who answers is its agent.
			may, err := MayTakeCustomerCall(tx, a.User, conv)
			if err != nil {
				return err
			}
			if !may {
				return ErrNotFound
			}
			if accept {
				s.UserID, s.UserName = &a.User.ID, a.User.Name
				upd["user_id"], upd["user_name"] = a.User.ID, a.User.Name
				if err := addMember(tx, s, a.User); err != nil {
					return err
				}
			}
		}
		if accept {
			s.State = RTCAccepted
		} else {
			s.State, s.EndedAt, s.EndReason, line = RTCDeclined, &now, reason, SysRTCDeclined
			upd["ended_at"], upd["end_reason"] = now, reason
		}
		upd["state"] = s.State
		if err := tx.Model(s).Updates(upd).Error; err != nil {
			return err
		}
		var extra JSONMap
		if !accept {
			extra = JSONMap{"reason": reason}
			if err := tx.Exec("DELETE FROM rtc_signals WHERE session_id = ?", s.ID).Error; err != nil {
				return err
			}
		}
		return rtcTransition(t, conv, s, a, line, extra)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "answer media session %s", pid)
	}
	return s, nil
}

// StartMedia records that media flows (the first frame or sound arrived on
// either side): accepted → started. A session already started, or ended
// meanwhile, is left as it is (both sides report; the first one counts).
func StartMedia(ctx context.Context, t Tx, a MediaActor, conv *Conversation, pid string) (*RTCSession, error) {
	var s *RTCSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if s, err = lockSession(tx, a, conv, pid); err != nil {
			return err
		}
		switch s.State {
		case RTCStarted, RTCEnded, RTCDeclined:
			return nil
		case RTCRequested:
			return Invalid("rtc", "rtc_not_accepted", nil)
		}
		now := time.Now()
		s.State, s.StartedAt = RTCStarted, &now
		if err := tx.Model(s).Updates(map[string]any{"state": s.State, "started_at": now, "alive_at": now}).Error; err != nil {
			return err
		}
		return rtcTransition(t, conv, s, a, SysRTCStarted, nil)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "start media session %s", pid)
	}
	return s, nil
}

// EndMedia ends a running session (either side, at any time: a hang-up, a
// request withdrawn or unanswered, a dropped connection), with its duration
// in the status line, and deletes its signals. Any agent who may use media
// in the conversation may end it too, so a session whose agent left never
// blocks the conversation's next one. Ending one that is over already
// changes nothing.
func EndMedia(ctx context.Context, t Tx, a MediaActor, conv *Conversation, pid, reason string) (*RTCSession, error) {
	if !rtcReasons[reason] {
		return nil, Invalid("reason", "rtc_reason", nil)
	}
	var s *RTCSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if s, err = lockSession(tx, a, conv, pid, true); err != nil {
			return err
		}
		if !s.Running() {
			return nil
		}
		return endLockedMedia(t, tx, conv, s, a, reason)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "end media session %s", pid)
	}
	return s, nil
}

// endLockedMedia ends s, a running session of conv locked by tx (t's), for
// reason: its state, its signals gone, the status line and event. EndMedia
// and the reaper of abandoned sessions both end sessions through it.
func endLockedMedia(t Tx, tx *gorm.DB, conv *Conversation, s *RTCSession, a MediaActor, reason string) error {
	now := time.Now()
	s.State, s.EndedAt, s.EndReason = RTCEnded, &now, reason
	if err := tx.Model(s).Updates(map[string]any{"state": s.State, "ended_at": now, "end_reason": reason}).Error; err != nil {
		return err
	}
	if err := tx.Exec("DELETE FROM rtc_signals WHERE session_id = ?", s.ID).Error; err != nil {
		return err
	}
	return rtcTransition(t, conv, s, a, SysRTCEnded, JSONMap{"reason": reason, "seconds": int64(s.Duration() / time.Second)})
}

// Signal kinds.
const (
	SignalOffer  = "offer"
	SignalAnswer = "answer"
	SignalICE    = "ice"
	SignalBye    = "bye"
)

// PostSignal stores a signalling message from a to the other side of the
// session pid and announces its id (an RTCEvent addressed To that side).
// The session must be accepted or started; the payload must be a JSON
// object or array of at most MaxSignalBytes (the handler caps the body
// before). It returns the signal's id.
func PostSignal(ctx context.Context, t Tx, a MediaActor, conv *Conversation, pid, kind string, payload json.RawMessage) (int64, error) {
	return PostSignalTo(ctx, t, a, conv, pid, "", kind, payload)
}

// PostSignalTo is PostSignal addressed to the peer to: in a conference
// (a mesh) each pair of browsers signals to each other. to must be the
// customer or an agent in the call now, not a itself (a ValidationError on
// "to"); "" is the other side of a two-party session (the customer's
// agent, or the customer).
func PostSignalTo(ctx context.Context, t Tx, a MediaActor, conv *Conversation, pid, to, kind string, payload json.RawMessage) (int64, error) {
	switch kind {
	case SignalOffer, SignalAnswer, SignalICE, SignalBye:
	default:
		return 0, Invalid("kind", "rtc_signal_kind", nil)
	}
	p := strings.TrimSpace(string(payload))
	if len(p) > MaxSignalBytes {
		return 0, Invalid("payload", "rtc_signal_size", nil)
	}
	if p == "" || (p[0] != '{' && p[0] != '[') || !json.Valid([]byte(p)) {
		return 0, Invalid("payload", "rtc_signal_json", nil)
	}
	var id int64
	err := t.run(ctx, func(tx *gorm.DB) error {
		s, err := lockSession(tx, a, conv, pid)
		if err != nil {
			return err
		}
		if s.State != RTCAccepted && s.State != RTCStarted {
			return Invalid("rtc", "rtc_not_running", nil)
		}
		switch {
		case to == "" && a.User == nil:
			to = s.AgentPeer()
		case to == "":
			to = PeerCustomer
		case to == a.Peer():
			return Invalid("to", "rtc_peer", nil)
		case to != PeerCustomer:
			in, err := peerInCall(tx, s, to)
			if err != nil {
				return err
			}
			if !in {
				return Invalid("to", "rtc_peer", nil)
			}
		}
		if err := tx.Exec("UPDATE rtc_sessions SET alive_at = now() WHERE id = ?", s.ID).Error; err != nil {
			return err
		}
		sig := RTCSignal{SessionID: s.ID, FromPeer: a.Peer(), ToPeer: to, Kind: kind, Payload: json.RawMessage(p)}
		if err := tx.Select("SessionID", "FromPeer", "ToPeer", "Kind", "Payload").Create(&sig).Error; err != nil {
			return err
		}
		id = sig.ID
		return appendEvent(t, Event{ConversationID: &conv.ID, Data: RTCEvent{Session: s.ID, PublicID: s.PublicID, Media: s.Kind, Signal: sig.ID, From: sig.FromPeer, To: to}})
	})
	if err != nil {
		return 0, wrapUnlessDomain(err, "post %s signal in session %s", kind, pid)
	}
	return id, nil
}

// FindSignal is the signal id of conv for the actor a: only its addressee
// may read it (CanReadSignal), and only while its session runs (an ended
// session's signals are gone). Anything else is ErrNotFound.
func FindSignal(ctx context.Context, db *gorm.DB, a MediaActor, conv *Conversation, id int64) (*RTCSignal, error) {
	if !a.mayUse(conv) {
		return nil, ErrNotFound
	}
	var row struct {
		RTCSignal
		PublicID string
	}
	err := db.WithContext(ctx).Raw(`SELECT g.id, g.session_id, g.from_peer, g.to_peer, g.kind, g.payload, g.created_at, s.public_id
		FROM rtc_signals g JOIN rtc_sessions s ON s.id = g.session_id
		WHERE g.id = ? AND s.conversation_id = ?`, id, conv.ID).Scan(&row).Error
	if err != nil {
		return nil, wrapUnlessDomain(err, "find signal %d", id)
	}
	if row.ID == 0 || !CanReadSignal(a, &row.RTCSignal) {
		return nil, ErrNotFound
	}
	sig := row.RTCSignal
	sig.Session = row.PublicID
	return &sig, nil
}

// lockNoMediaRunning locks conv's row and refuses (rtc_busy) when a media
// session of it is requested or running: the lock serialises new sessions,
// so the second one finds the first and is refused with a reason, not an
// index error.
func lockNoMediaRunning(tx *gorm.DB, conv *Conversation) error {
	if err := tx.Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
		return err
	}
	var running int64
	if err := tx.Model(&RTCSession{}).Where("conversation_id = ? AND state IN ?", conv.ID, []string{RTCRequested, RTCAccepted, RTCStarted}).Count(&running).Error; err != nil {
		return err
	}
	if running > 0 {
		return Invalid("rtc", "rtc_busy", nil)
	}
	return nil
}

// PendingSignals are the signals of conv's session sid addressed to the
// actor a with ids above after, oldest first (at most 500): a browser that
// missed a signal's id on its stream (a reconnect that resumed past it)
// catches up with them. The rules are FindSignal's: only the addressee,
// only while the session runs; anything else is an empty list or
// ErrNotFound.
func PendingSignals(ctx context.Context, db *gorm.DB, a MediaActor, conv *Conversation, sid string, after int64) ([]RTCSignal, error) {
	if !a.mayUse(conv) {
		return nil, ErrNotFound
	}
	var rows []RTCSignal
	err := db.WithContext(ctx).Raw(`SELECT g.id, g.session_id, g.from_peer, g.to_peer, g.kind, g.payload, g.created_at
		FROM rtc_signals g JOIN rtc_sessions s ON s.id = g.session_id
		WHERE s.public_id::text = ? AND s.conversation_id = ? AND g.to_peer = ? AND g.id > ?
		ORDER BY g.id LIMIT 500`, sid, conv.ID, a.Peer(), after).Scan(&rows).Error
	if err != nil {
		return nil, wrapUnlessDomain(err, "pending signals of session %s", sid)
	}
	out := make([]RTCSignal, 0, len(rows))
	for i := range rows {
		if CanReadSignal(a, &rows[i]) {
			rows[i].Session = sid
			out = append(out, rows[i])
		}
	}
	return out, nil
}

// MediaSessions are conv's newest media sessions (at most limit), newest
// first: the running one, if any, comes first.
func MediaSessions(ctx context.Context, db *gorm.DB, conv *Conversation, limit int) ([]RTCSession, error) {
	var ss []RTCSession
	err := db.WithContext(ctx).Where("conversation_id = ?", conv.ID).Order("id DESC").Limit(limit).Find(&ss).Error
	if err != nil {
		return nil, wrapUnlessDomain(err, "media sessions of conversation %d", conv.ID)
	}
	if s := RunningMedia(ss); s != nil {
		if s.Members, err = callMembers(db.WithContext(ctx), s.ID); err != nil {
			return nil, wrapUnlessDomain(err, "members of media session %d", s.ID)
		}
	}
	return ss, nil
}

// RunningMedia is conv's running session, or nil.
func RunningMedia(ss []RTCSession) *RTCSession {
	for i := range ss {
		if ss[i].Running() {
			return &ss[i]
		}
	}
	return nil
}

// TURNSecret is the shared secret of the TURN REST credentials (HMAC) when
// no PARLEY_TURN_SECRET is configured: derived from the server-only link
// secret, so every instance of one database hands out and accepts the same
// credentials, and it never leaves the server.
func TURNSecret(ctx context.Context, db *gorm.DB) (string, error) {
	k, err := linkSecret(ctx, db)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte("parley turn rest secret"))
	return hex.EncodeToString(mac.Sum(nil)), nil
}
