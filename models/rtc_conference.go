package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Conference calls and calls the customer starts (issue 11).
//
// A call is a small mesh: every pair of browsers in it has its own
// RTCPeerConnection, so each browser sends its microphone (and camera) once
// per other person. That is fine for MaxCallMembers people on ordinary
// links and is where it stops: a larger call would need a media server
// (an SFU), which Parley does not have. The customer is always in the call;
// the agents in it are rtc_members rows. The agent who asked for the call
// (or answered the customer's) is the first; other agents of the
// conversation (its assignee and its visible participants) join and leave
// while it runs; each join and leave is a status line the customer sees.

// MaxCallMembers is how many people a call may have, the customer included.
const MaxCallMembers = 4

// Status lines of conferences (in customerEvents: the customer sees who is
// in the call).
const (
	SysRTCJoined = "rtc_joined"
	SysRTCLeft   = "rtc_left"
)

// Errors of calls, mapped to HTTP statuses by the app.
var (
	// ErrCallFull: the call has MaxCallMembers people already (409).
	ErrCallFull = errors.New("rtc: the call is full")
	// ErrMayNotJoin: the agent is not one of the conversation's agents
	// (its assignee or a visible participant), or the session is not a
	// call (403).
	ErrMayNotJoin = errors.New("rtc: only the conversation's agents may join its call")
	// ErrCustomerCallsOff: the desk does not let customers start calls
	// (403).
	ErrCustomerCallsOff = errors.New("rtc: customers may not start calls on this desk")
)

// RTCMember is an agent's place in a call (migration 00031).
type RTCMember struct {
	SessionID int64
	UserID    int64
	Name      string
	JoinedAt  time.Time `gorm:"->"`
	LeftAt    *time.Time
}

// TableName maps RTCMember to rtc_members.
func (RTCMember) TableName() string { return "rtc_members" }

// Peer is the member's signalling name.
func (m RTCMember) Peer() string { return UserPeer(m.UserID) }

// IsCall reports whether s is a call (audio or video), the only kind
// others may join.
func (s *RTCSession) IsCall() bool { return s.Kind == RTCAudio || s.Kind == RTCVideo }

// InCall reports whether the agent userID is in s now (Members loaded).
func (s *RTCSession) InCall(userID int64) bool {
	for _, m := range s.Members {
		if m.UserID == userID {
			return true
		}
	}
	return false
}

// addMember puts u in s (again, if they had left).
func addMember(tx *gorm.DB, s *RTCSession, u *User) error {
	return tx.Exec(`INSERT INTO rtc_members (session_id, user_id, name) VALUES (?, ?, ?)
		ON CONFLICT (session_id, user_id) DO UPDATE SET left_at = NULL, joined_at = now(), name = EXCLUDED.name`, s.ID, u.ID, u.Name).Error
}

// callMembers are the agents in session id now, in the order they joined.
func callMembers(db *gorm.DB, id int64) ([]RTCMember, error) {
	var ms []RTCMember
	err := db.Where("session_id = ? AND left_at IS NULL", id).Order("joined_at, user_id").Find(&ms).Error
	return ms, err
}

// peerInCall reports whether peer (an agent's signalling name) is in s now.
func peerInCall(tx *gorm.DB, s *RTCSession, peer string) (bool, error) {
	if peer == s.AgentPeer() && peer != "" {
		return true, nil
	}
	ms, err := callMembers(tx, s.ID)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		if m.Peer() == peer {
			return true, nil
		}
	}
	return false, nil
}

// conversationAgentSQL: the user @user_id is one of conversation @conv's
// agents: its assignee or a participant who is not hidden (a hidden
// participant cannot appear in a call the customer is in).
const conversationAgentSQL = `(EXISTS (SELECT 1 FROM conversations c WHERE c.id = @conv AND c.assignee_id = @user_id)
	OR EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = @conv AND p.user_id = @user_id AND p.left_at IS NULL AND NOT p.hidden))`

// MayJoinCall reports whether u may join a call in conv: support staff who
// may use media in it (CanUseMedia) and are one of its agents (its
// assignee or a visible participant).
func MayJoinCall(ctx context.Context, db *gorm.DB, u *User, conv *Conversation) (bool, error) {
	if !CanUseMedia(u, conv) {
		return false, nil
	}
	var ok bool
	err := db.WithContext(ctx).Raw(`SELECT `+conversationAgentSQL, map[string]any{"conv": conv.ID, "user_id": u.ID}).Scan(&ok).Error
	return ok, err
}

// MayTakeCustomerCall reports whether u is one of the agents a customer's
// call in conv rings for, who may answer it: its assignee (and its visible
// participants); with nobody assigned, the members of its team; with no
// team either, every agent who may use media in it (the desk).
func MayTakeCustomerCall(db *gorm.DB, u *User, conv *Conversation) (bool, error) {
	if !CanUseMedia(u, conv) {
		return false, nil
	}
	var ok bool
	err := db.Raw(`SELECT CASE
		WHEN c.assignee_id IS NOT NULL THEN `+conversationAgentSQL+`
		WHEN c.team_id IS NOT NULL THEN EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = c.team_id AND tm.user_id = @user_id)
			OR EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = @conv AND p.user_id = @user_id AND p.left_at IS NULL AND NOT p.hidden)
		ELSE true END
		FROM conversations c WHERE c.id = @conv`, map[string]any{"conv": conv.ID, "user_id": u.ID}).Scan(&ok).Error
	return ok, err
}

// CustomerCalls reports whether the desk lets customers start calls.
func CustomerCalls(ctx context.Context, db *gorm.DB) (bool, error) {
	var on bool
	if err := db.WithContext(ctx).Raw("SELECT customer_calls FROM desk_settings WHERE id = 1").Scan(&on).Error; err != nil {
		return false, wrapUnlessDomain(err, "read customer calls setting")
	}
	return on, nil
}

// SetCustomerCalls turns on or off the customer's Call button (Admin →
// Conversations; off by default).
func SetCustomerCalls(ctx context.Context, db *gorm.DB, on bool) error {
	err := db.WithContext(ctx).Exec("UPDATE desk_settings SET customer_calls = ?, updated_at = now() WHERE id = 1", on).Error
	if err != nil {
		return wrapUnlessDomain(err, "set customer calls")
	}
	return nil
}

// CallAgents starts a call of kind (audio or video) from the customer of
// conv, through their visitor v: it rings for the conversation's agents
// (MayTakeCustomerCall), who accept or decline it (AnswerMedia). Refused
// with ErrCustomerCallsOff while the desk setting is off, ErrNotFound for a
// conversation v does not see, and like RequestMedia for a bad kind or a
// session already running.
func CallAgents(ctx context.Context, t Tx, v *Visitor, conv *Conversation, kind string) (*RTCSession, error) {
	if kind != RTCAudio && kind != RTCVideo {
		return nil, Invalid("kind", "rtc_kind", nil)
	}
	a := MediaActor{Visitor: v}
	if !a.mayUse(conv) || conv.Kind != KindCustomer {
		return nil, ErrNotFound
	}
	s := &RTCSession{ConversationID: conv.ID, Kind: kind, State: RTCRequested, ByCustomer: true}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var on bool
		if err := tx.Raw("SELECT customer_calls FROM desk_settings WHERE id = 1").Scan(&on).Error; err != nil {
			return err
		}
		if !on {
			return ErrCustomerCallsOff
		}
		if err := lockNoMediaRunning(tx, conv); err != nil {
			return err
		}
		if err := tx.Select("ConversationID", "Kind", "State", "ByCustomer").Create(s).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT public_id, created_at FROM rtc_sessions WHERE id = ?", s.ID).Row().Scan(&s.PublicID, &s.CreatedAt); err != nil {
			return err
		}
		return rtcTransition(t, conv, s, a, SysRTCRequested, nil)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "customer call in conversation %d", conv.ID)
	}
	return s, nil
}

// JoinCall puts the agent u in the running call pid of conv: only one of
// the conversation's agents (MayJoinCall; ErrMayNotJoin otherwise, and for
// a session that is not a call), only once the call is answered
// (rtc_not_running before), and only while it has fewer than
// MaxCallMembers people (ErrCallFull). The joiner's browser then offers a
// connection to everyone in the call. Joining twice changes nothing.
func JoinCall(ctx context.Context, t Tx, u *User, conv *Conversation, pid string) (*RTCSession, error) {
	a := MediaActor{User: u}
	var s *RTCSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if s, err = lockSession(tx, a, conv, pid, true); err != nil {
			return err
		}
		may, err := MayJoinCall(ctx, tx, u, conv)
		if err != nil {
			return err
		}
		if !may || !s.IsCall() {
			return ErrMayNotJoin
		}
		if s.State != RTCAccepted && s.State != RTCStarted {
			return Invalid("rtc", "rtc_not_running", nil)
		}
		if s.Members, err = callMembers(tx, s.ID); err != nil {
			return err
		}
		if s.InCall(u.ID) {
			return nil
		}
		if 1+len(s.Members) >= MaxCallMembers {
			return ErrCallFull
		}
		if err := addMember(tx, s, u); err != nil {
			return err
		}
		if err := tx.Exec("UPDATE rtc_sessions SET alive_at = now() WHERE id = ?", s.ID).Error; err != nil {
			return err
		}
		if s.Members, err = callMembers(tx, s.ID); err != nil {
			return err
		}
		return rtcMemberLine(t, conv, s, a, SysRTCJoined)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "join call %s", pid)
	}
	return s, nil
}

// LeaveCall takes the agent u out of the call pid of conv; the call goes on
// between the others. The last agent to leave ends it (EndMedia's line,
// reason hangup). If u was the call's agent, the next agent in it takes
// that place. Someone not in the call gets ErrNotFound.
func LeaveCall(ctx context.Context, t Tx, u *User, conv *Conversation, pid string) (*RTCSession, error) {
	a := MediaActor{User: u}
	var s *RTCSession
	ended := false
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if s, err = lockSession(tx, a, conv, pid); err != nil {
			return err
		}
		if !s.Running() {
			return nil
		}
		if s.Members, err = callMembers(tx, s.ID); err != nil {
			return err
		}
		var rest []RTCMember
		for _, m := range s.Members {
			if m.UserID != u.ID {
				rest = append(rest, m)
			}
		}
		if len(rest) == 0 {
			ended = true
			return nil
		}
		if err := tx.Exec("UPDATE rtc_members SET left_at = now() WHERE session_id = ? AND user_id = ?", s.ID, u.ID).Error; err != nil {
			return err
		}
		if s.UserID != nil && *s.UserID == u.ID {
			s.UserID, s.UserName = &rest[0].UserID, rest[0].Name
			if err := tx.Model(s).Updates(map[string]any{"user_id": rest[0].UserID, "user_name": rest[0].Name}).Error; err != nil {
				return err
			}
		}
		s.Members = rest
		return rtcMemberLine(t, conv, s, a, SysRTCLeft)
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "leave call %s", pid)
	}
	if ended {
		return EndMedia(ctx, t, a, conv, pid, "hangup")
	}
	return s, nil
}

// rtcMemberLine writes a join or leave's status line and its RTCEvent (the
// state unchanged, Peer: who came or went), which every side hears: the
// browsers in the call open or close their connection with that peer.
func rtcMemberLine(t Tx, conv *Conversation, s *RTCSession, a MediaActor, line string) error {
	if _, err := insertSystemLine(t, conv, line, JSONMap{"kind": s.Kind, "session": s.PublicID, "by": a.User.Name}); err != nil {
		return err
	}
	change := "joined"
	if line == SysRTCLeft {
		change = "left"
	}
	return appendEvent(t, Event{ConversationID: &conv.ID, Data: RTCEvent{Session: s.ID, PublicID: s.PublicID, Media: s.Kind, State: s.State, Peer: a.Peer(), Change: change}})
}

// MediaAlive records a sign of life of a's browser in the running session
// pid of conv (the heartbeat rtc.js sends every RTCHeartbeat while one of
// its connections is up). It is a single UPDATE, no event; a session that
// is not running, or an actor not in it, changes nothing (false).
func MediaAlive(ctx context.Context, db *gorm.DB, a MediaActor, conv *Conversation, pid string) (bool, error) {
	if !a.mayUse(conv) || !validUUID(pid) {
		return false, ErrNotFound
	}
	q := `UPDATE rtc_sessions s SET alive_at = now()
		WHERE s.public_id = @pid AND s.conversation_id = @conv AND s.state IN ('accepted', 'started')`
	args := map[string]any{"pid": pid, "conv": conv.ID}
	if a.User != nil {
		q += ` AND (s.user_id = @user OR EXISTS (SELECT 1 FROM rtc_members m WHERE m.session_id = s.id AND m.user_id = @user AND m.left_at IS NULL))`
		args["user"] = a.User.ID
	}
	res := db.WithContext(ctx).Exec(q, args)
	if res.Error != nil {
		return false, wrapUnlessDomain(res.Error, "media heartbeat %s", pid)
	}
	return res.RowsAffected == 1, nil
}

// MediaPeerIn reports whether a is one of the sides of the running session
// s (for the ICE servers and their TURN credentials).
func MediaPeerIn(ctx context.Context, db *gorm.DB, a MediaActor, s *RTCSession) (bool, error) {
	return a.inSession(db.WithContext(ctx), s)
}

// MediaRights are what an agent may do with a conversation's calls beyond
// CanUseMedia: join a running call (MayJoinCall), answer the customer's
// (MayTakeCustomerCall). The desk's panel shows its buttons by them.
type MediaRights struct {
	Join, Answer bool
}

// LoadMediaRights returns u's MediaRights in conv.
func LoadMediaRights(ctx context.Context, db *gorm.DB, u *User, conv *Conversation) (MediaRights, error) {
	var r MediaRights
	var err error
	if r.Join, err = MayJoinCall(ctx, db, u, conv); err != nil {
		return r, wrapUnlessDomain(err, "media rights in conversation %d", conv.ID)
	}
	if r.Answer, err = MayTakeCustomerCall(db.WithContext(ctx), u, conv); err != nil {
		return r, wrapUnlessDomain(err, "media rights in conversation %d", conv.ID)
	}
	return r, nil
}
