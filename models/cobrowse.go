package models

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Co-browsing: with the customer's consent, an agent follows the customer's
// page on the site where the widget is embedded. The widget loader records
// the page with rrweb (inputs masked, private elements blocked, in the
// customer's browser) and posts batches of events as chunks; the desk
// replays them. A session is requested by an agent, then accepted or
// declined by the customer, and ended by either side. Every step is a status
// line both sides see.
const (
	CobrowseRequested = "requested"
	CobrowseActive    = "active"
	CobrowseDeclined  = "declined"
	CobrowseEnded     = "ended"
)

// Status lines of co-browsing (all in customerEvents: the customer sees
// every step of what is asked of them and what runs).
const (
	SysCobrowseRequested = "cobrowse_requested"
	SysCobrowseAccepted  = "cobrowse_accepted"
	SysCobrowseDeclined  = "cobrowse_declined"
	SysCobrowseStarted   = "cobrowse_started"
	SysCobrowseEnded     = "cobrowse_ended"
)

// Size caps: one chunk (a batch of rrweb events posted every ~250 ms; the
// first holds the page's full snapshot) and one session in all. A page whose
// snapshot alone is larger cannot be co-browsed.
const (
	CobrowseChunkLimit   = 512 << 10
	CobrowseSessionLimit = 64 << 20
)

// Co-browsing commands an agent sends to the customer's page.
const (
	CobrowseHighlight = "highlight" // outline rrweb node Node briefly
	CobrowseScroll    = "scroll"    // scroll the page by DY pixels
)

// Errors of co-browsing operations, mapped to HTTP statuses by the app.
var (
	// ErrCobrowseBusy: a session is already requested or active in the
	// conversation.
	ErrCobrowseBusy = errors.New("cobrowse: a session is already running")
	// ErrCobrowseState: the session is not in a state that allows the
	// operation (answering twice, posting to a session not active).
	ErrCobrowseState = errors.New("cobrowse: session not in that state")
	// ErrCobrowseTooLarge: a chunk, or the session's total, is over its cap.
	ErrCobrowseTooLarge = errors.New("cobrowse: too large")
)

// CobrowseSession is one co-browsing request and, if accepted, its run.
type CobrowseSession struct {
	ID             int64
	PublicID       string `gorm:"->"`
	ConversationID int64
	RequestedBy    *int64
	State          string
	Bytes          int64
	CreatedAt      time.Time
	AcceptedAt     *time.Time
	EndedAt        *time.Time
	EndedBy        *string
}

// Running reports whether s is requested or active.
func (s *CobrowseSession) Running() bool {
	return s != nil && (s.State == CobrowseRequested || s.State == CobrowseActive)
}

// CobrowseChunk is one batch of rrweb events (a JSON array).
type CobrowseChunk struct {
	ID        int64
	SessionID int64
	Data      []byte
	CreatedAt time.Time
}

// CobrowseEvent: something happened to co-browsing session Session of
// Event.ConversationID. It carries ids and small values only (a chunk is
// fetched by id): State when the session changed state, Chunk when a chunk
// was stored, Command (with Node or DY) when the agent highlights or
// scrolls.
type CobrowseEvent struct {
	Session  int64  `json:"session"`
	PublicID string `json:"pid,omitempty"`
	State    string `json:"state,omitempty"`
	Chunk    int64  `json:"chunk,omitempty"`
	Command  string `json:"cmd,omitempty"`
	Node     int64  `json:"node,omitempty"`
	DY       int    `json:"dy,omitempty"`
}

// Kind implements EventData.
func (CobrowseEvent) Kind() string { return EventCobrowse }

// RunningCobrowse is conv's requested or active session, or nil.
func RunningCobrowse(ctx context.Context, db *gorm.DB, convID int64) (*CobrowseSession, error) {
	var s []CobrowseSession
	err := db.WithContext(ctx).Raw(`SELECT * FROM cobrowse_sessions WHERE conversation_id = ? AND state IN ('requested', 'active')`, convID).Scan(&s).Error
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, nil
	}
	return &s[0], nil
}

// FindCobrowse is conv's session publicID; ErrNotFound if conv has none.
// The caller has checked that the asker sees conv.
func FindCobrowse(ctx context.Context, db *gorm.DB, conv *Conversation, publicID string) (*CobrowseSession, error) {
	if !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	var s []CobrowseSession
	err := db.WithContext(ctx).Raw(`SELECT * FROM cobrowse_sessions WHERE public_id = ? AND conversation_id = ?`, publicID, conv.ID).Scan(&s).Error
	if err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, ErrNotFound
	}
	return &s[0], nil
}

// lockCobrowse loads and locks conv's session publicID inside t.
func lockCobrowse(tx *gorm.DB, conv *Conversation, publicID string) (*CobrowseSession, error) {
	if !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	var s []CobrowseSession
	if err := tx.Raw(`SELECT * FROM cobrowse_sessions WHERE public_id = ? AND conversation_id = ? FOR UPDATE`, publicID, conv.ID).Scan(&s).Error; err != nil {
		return nil, err
	}
	if len(s) == 0 {
		return nil, ErrNotFound
	}
	return &s[0], nil
}

func cobrowseEvent(t Tx, conv *Conversation, d CobrowseEvent) error {
	return appendEvent(t, Event{ConversationID: &conv.ID, Data: d})
}

func cobrowseCustomer(conv *Conversation) string {
	if conv.Customer != nil {
		return conv.Customer.DisplayName()
	}
	return ""
}

// RequestCobrowse asks conv's customer to let user follow their page: a
// session in state requested, a status line and an event the widget shows
// as a consent prompt. Only staff who may act on customer data
// (CanCobrowse), only in customer conversations; ErrCobrowseBusy while
// another session is requested or active.
func RequestCobrowse(ctx context.Context, t Tx, user *User, conv *Conversation) (*CobrowseSession, error) {
	if !CanCobrowse(user, conv) {
		return nil, ErrNotFound
	}
	var s CobrowseSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Raw(`INSERT INTO cobrowse_sessions (conversation_id, requested_by) VALUES (?, ?) RETURNING *`, conv.ID, user.ID).Scan(&s).Error
		if isUniqueViolation(err, "cobrowse_sessions_running_idx") {
			return ErrCobrowseBusy
		}
		if err != nil {
			return err
		}
		if _, err := insertSystemLine(t, conv, SysCobrowseRequested, JSONMap{"by": user.Name, "session": s.PublicID}); err != nil {
			return err
		}
		return cobrowseEvent(t, conv, CobrowseEvent{Session: s.ID, PublicID: s.PublicID, State: CobrowseRequested})
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "request cobrowse in conversation %d", conv.ID)
	}
	return &s, nil
}

// AnswerCobrowse records v's answer to the request publicID of conv: allow
// makes it active (the widget then starts the recorder), otherwise it is
// declined. A conversation v does not see, or a session not of conv, is
// ErrNotFound; a session no longer awaiting an answer is ErrCobrowseState.
func AnswerCobrowse(ctx context.Context, t Tx, v *Visitor, conv *Conversation, publicID string, allow bool) (*CobrowseSession, error) {
	if v == nil || !v.Sees(conv) {
		return nil, ErrNotFound
	}
	var s *CobrowseSession
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if s, err = lockCobrowse(tx, conv, publicID); err != nil {
			return err
		}
		if s.State != CobrowseRequested {
			return ErrCobrowseState
		}
		state, line, q := CobrowseActive, SysCobrowseAccepted, `UPDATE cobrowse_sessions SET state = 'active', accepted_at = now() WHERE id = ? RETURNING *`
		if !allow {
			state, line, q = CobrowseDeclined, SysCobrowseDeclined, `UPDATE cobrowse_sessions SET state = 'declined', ended_at = now(), ended_by = 'customer' WHERE id = ? RETURNING *`
		}
		if err := tx.Raw(q, s.ID).Scan(s).Error; err != nil {
			return err
		}
		if _, err := insertSystemLine(t, conv, line, JSONMap{"by": cobrowseCustomer(conv), "session": s.PublicID}); err != nil {
			return err
		}
		return cobrowseEvent(t, conv, CobrowseEvent{Session: s.ID, PublicID: s.PublicID, State: state})
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "answer cobrowse in conversation %d", conv.ID)
	}
	return s, nil
}

// EndCobrowse ends conv's session publicID, requested or active, on behalf
// of actor (an agent who may co-browse conv, or the conversation's
// customer: the caller has checked Visitor.Sees). Ending a session that has
// ended already changes nothing and reports false. Its chunks are deleted
// by the job that follows the event (jobs.CobrowsePurgeArgs).
func EndCobrowse(ctx context.Context, t Tx, actor Actor, conv *Conversation, publicID string) (bool, error) {
	by, who := "", "customer"
	switch {
	case actor.User != nil:
		if !CanCobrowse(actor.User, conv) {
			return false, ErrNotFound
		}
		by, who = actor.User.Name, "agent"
	case actor.Customer != nil:
		if conv.CustomerID == nil || *conv.CustomerID != actor.Customer.ID {
			return false, ErrNotFound
		}
		by = cobrowseCustomer(conv)
	default:
		return false, errors.New("end cobrowse: no actor")
	}
	ended := false
	err := t.run(ctx, func(tx *gorm.DB) error {
		s, err := lockCobrowse(tx, conv, publicID)
		if err != nil {
			return err
		}
		if !s.Running() {
			return nil
		}
		ended = true
		return endLockedCobrowse(t, tx, conv, s, who, JSONMap{"by": by, "session": s.PublicID})
	})
	if err != nil {
		return false, wrapUnlessDomain(err, "end cobrowse in conversation %d", conv.ID)
	}
	return ended, nil
}

// endLockedCobrowse ends s, a running co-browsing session of conv locked by
// tx (t's), ended by who (agent, customer, system): its state, the status
// line with line's data, and the event. EndCobrowse and the reaper of
// abandoned sessions both end sessions through it.
func endLockedCobrowse(t Tx, tx *gorm.DB, conv *Conversation, s *CobrowseSession, who string, line JSONMap) error {
	if err := tx.Exec(`UPDATE cobrowse_sessions SET state = 'ended', ended_at = now(), ended_by = ? WHERE id = ?`, who, s.ID).Error; err != nil {
		return err
	}
	if _, err := insertSystemLine(t, conv, SysCobrowseEnded, line); err != nil {
		return err
	}
	return cobrowseEvent(t, conv, CobrowseEvent{Session: s.ID, PublicID: s.PublicID, State: CobrowseEnded})
}

// AppendCobrowseChunk stores data, a JSON array of rrweb events from v's
// page, in conv's session publicID and announces it by id. Only to a
// session of a conversation v sees (ErrNotFound otherwise) that v's
// customer accepted and that still runs (ErrCobrowseState); data must be a
// JSON array (a ValidationError on "events") within CobrowseChunkLimit, and
// the session's total within CobrowseSessionLimit (ErrCobrowseTooLarge).
// The first chunk is the page's snapshot: a "started" status line.
func AppendCobrowseChunk(ctx context.Context, t Tx, v *Visitor, conv *Conversation, publicID string, data []byte) (int64, error) {
	if v == nil || !v.Sees(conv) {
		return 0, ErrNotFound
	}
	if len(data) > CobrowseChunkLimit {
		return 0, ErrCobrowseTooLarge
	}
	var events []json.RawMessage
	if err := json.Unmarshal(data, &events); err != nil || len(events) == 0 {
		return 0, Invalid("events", "cobrowse_events", nil)
	}
	var id int64
	err := t.run(ctx, func(tx *gorm.DB) error {
		s, err := lockCobrowse(tx, conv, publicID)
		if err != nil {
			return err
		}
		if !v.MayRecord(conv, s) {
			return ErrCobrowseState
		}
		if s.Bytes+int64(len(data)) > CobrowseSessionLimit {
			return ErrCobrowseTooLarge
		}
		if err := tx.Exec(`UPDATE cobrowse_sessions SET bytes = bytes + ?, alive_at = now() WHERE id = ?`, len(data), s.ID).Error; err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO cobrowse_chunks (session_id, data) VALUES (?, ?) RETURNING id`, s.ID, data).Scan(&id).Error; err != nil {
			return err
		}
		if s.Bytes == 0 {
			if _, err := insertSystemLine(t, conv, SysCobrowseStarted, JSONMap{"by": cobrowseCustomer(conv), "session": s.PublicID}); err != nil {
				return err
			}
		}
		return cobrowseEvent(t, conv, CobrowseEvent{Session: s.ID, PublicID: s.PublicID, Chunk: id})
	})
	if err != nil {
		return 0, wrapUnlessDomain(err, "append cobrowse chunk in conversation %d", conv.ID)
	}
	return id, nil
}

// CobrowseCommand sends an agent's highlight (node, an rrweb node id) or
// scroll (dy pixels) to the customer's page in conv's active session
// publicID: an event only, nothing else is stored.
func CobrowseCommand(ctx context.Context, t Tx, user *User, conv *Conversation, publicID, cmd string, node int64, dy int) error {
	if !CanCobrowse(user, conv) {
		return ErrNotFound
	}
	d := CobrowseEvent{Command: cmd}
	switch cmd {
	case CobrowseHighlight:
		if node <= 0 {
			return Invalid("node", "cobrowse_node", nil)
		}
		d.Node = node
	case CobrowseScroll:
		if dy == 0 || dy < -20000 || dy > 20000 {
			return Invalid("dy", "cobrowse_scroll", nil)
		}
		d.DY = dy
	default:
		return Invalid("cmd", "cobrowse_command", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		s, err := lockCobrowse(tx, conv, publicID)
		if err != nil {
			return err
		}
		if s.State != CobrowseActive {
			return ErrCobrowseState
		}
		d.Session, d.PublicID = s.ID, s.PublicID
		return cobrowseEvent(t, conv, d)
	})
	return wrapUnlessDomain(err, "cobrowse command in conversation %d", conv.ID)
}

// CobrowseChunksAfter returns up to limit chunks of s after chunk id after,
// oldest first, for user, who must be allowed to co-browse conv (the
// session's conversation): anyone else gets ErrNotFound.
func CobrowseChunksAfter(ctx context.Context, db *gorm.DB, user *User, conv *Conversation, s *CobrowseSession, after int64, limit int) ([]CobrowseChunk, error) {
	if !CanCobrowse(user, conv) || s == nil || s.ConversationID != conv.ID {
		return nil, ErrNotFound
	}
	var out []CobrowseChunk
	err := db.WithContext(ctx).Raw(`SELECT * FROM cobrowse_chunks WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?`, s.ID, after, limit).Scan(&out).Error
	return out, err
}

// PurgeCobrowseChunks deletes the chunks of session id if it has ended or
// been declined; a running session keeps them. It returns how many went.
func PurgeCobrowseChunks(ctx context.Context, db *gorm.DB, id int64) (int64, error) {
	r := db.WithContext(ctx).Exec(`DELETE FROM cobrowse_chunks c USING cobrowse_sessions s
		WHERE c.session_id = s.id AND s.id = ? AND s.state IN ('ended', 'declined')`, id)
	return r.RowsAffected, r.Error
}
