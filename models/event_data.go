package models

import (
	"encoding/json"
	"fmt"
)

// EventData is the typed payload of an event: one Go type per event kind,
// with that kind's fields. Like River's JobArgs, each type names its kind;
// appendEvent stores the kind from it, so a payload can never be filed under
// the wrong kind. EncodeEventData and DecodeEventData are the one place the
// stored JSON (events.data, and the copies carried by jobs) is written and
// read: readers type-switch on Event.Data and never look up string keys.
type EventData interface {
	// Kind is stored with each event row; it must never change.
	Kind() string
}

// MessageEvent: a message, note or status line was added (Event.MessageID).
type MessageEvent struct{}

// Kind implements EventData.
func (MessageEvent) Kind() string { return EventMessage }

// MessageChangedEvent: ByUserID edited Event.MessageID, or deleted it
// (Deleted). The message row holds the new state (EditMessage,
// DeleteMessage).
type MessageChangedEvent struct {
	Deleted  bool  `json:"deleted,omitempty"`
	ByUserID int64 `json:"by_user_id,omitempty"`
}

// Kind implements EventData.
func (MessageChangedEvent) Kind() string { return EventMessageChanged }

// ConversationEvent: a conversation was created or changed state, assignee or
// who follows it. Exactly one of the groups below is set per event.
type ConversationEvent struct {
	// Created: a new conversation; ByUserID is set when an agent started
	// it for a customer (a support session), which alerts nobody else.
	Created bool `json:"created,omitempty"`
	// Status: the conversation was opened or closed (StatusOpen, StatusClosed).
	Status string `json:"status,omitempty"`
	// Assigned: ByUserID assigned it to AssigneeID (nil: unassigned it).
	Assigned   bool   `json:"assigned,omitempty"`
	ByUserID   int64  `json:"by_user_id,omitempty"`
	AssigneeID *int64 `json:"assignee_id,omitempty"`
	// Following: Event.UserID started (true) or stopped following it.
	Following *bool `json:"following,omitempty"`
	// ItemFollowing: Event.UserID started or stopped following the
	// conversation's ticket or task (its involvement in My conversations).
	ItemFollowing *bool `json:"item_following,omitempty"`
	// Participant: an agent joined or left the conversation (participant.go).
	Participant *ParticipantChange `json:"participant,omitempty"`
	// Transferred: ByUserID (0: a routing rule) put the conversation in
	// the team TeamID's queue (team_queue.go). An assignment that follows
	// is its own Assigned event.
	Transferred bool   `json:"transferred,omitempty"`
	TeamID      *int64 `json:"team_id,omitempty"`
	// Auto marks an Assigned event made by auto-assign (round-robin within
	// a team), on behalf of ByUserID (0: routing or an agent's return).
	Auto bool `json:"auto,omitempty"`
}

// ParticipantChange is who joined or left a conversation, and how. It is not
// addressed to the participant (Event.UserID stays nil): every desk showing
// the conversation updates its Participants panel.
type ParticipantChange struct {
	UserID int64 `json:"user_id"`
	// Joined: they joined (false: they left).
	Joined bool `json:"joined,omitempty"`
	Hidden bool `json:"hidden,omitempty"`
	// ByUserID invited them (0: they joined by themselves); the invitee is
	// notified (AudienceOf).
	ByUserID int64 `json:"by_user_id,omitempty"`
}

// Kind implements EventData.
func (ConversationEvent) Kind() string { return EventConversation }

// ReadEvent: Event.UserID read a conversation; their unread counts changed.
type ReadEvent struct{}

// Kind implements EventData.
func (ReadEvent) Kind() string { return EventRead }

// DeskStatusEvent: the desk went online or offline (Event.UserID switched it).
type DeskStatusEvent struct{}

// Kind implements EventData.
func (DeskStatusEvent) Kind() string { return EventDeskStatus }

// SettingsEvent: the widget settings changed.
type SettingsEvent struct{}

// Kind implements EventData.
func (SettingsEvent) Kind() string { return EventSettings }

// ItemEvent: a ticket or task changed (Event.ItemID; written once for item
// pages and once per linked conversation, Event.ConversationID).
type ItemEvent struct {
	// Created: a new item, by ByUserID, assigned to AssigneeID.
	Created bool `json:"created,omitempty"`
	// Field: ByUserID changed this field (FieldAssignee: to AssigneeID).
	Field      string `json:"field,omitempty"`
	ByUserID   int64  `json:"by_user_id,omitempty"`
	AssigneeID *int64 `json:"assignee_id,omitempty"`
	// Linked, Unlinked: Event.ConversationID was linked to or unlinked from
	// the item.
	Linked   bool `json:"linked,omitempty"`
	Unlinked bool `json:"unlinked,omitempty"`
	// Following: Event.UserID started (true) or stopped following the item.
	Following *bool `json:"following,omitempty"`
	// CommentID is the comment (Field FieldComment, an item_activities
	// row); Mentioned who it mentions (CommentOnItem).
	CommentID int64   `json:"comment_id,omitempty"`
	Mentioned []int64 `json:"mentioned,omitempty"`
}

// Kind implements EventData.
func (ItemEvent) Kind() string { return EventItem }

// AccessEvent: Event.UserID's access changed (see EventAccess).
type AccessEvent struct {
	// Why: what changed (deactivated, signed_out, …), for logs.
	Why string `json:"why"`
}

// Kind implements EventData.
func (AccessEvent) Kind() string { return EventAccess }

// NotificationEvent: Event.UserID's notifications changed: one was added
// (ID, replacing the grouped entry Replaces, if any) or some were read.
// A broadcast (Broadcast, no UserID) is one event for every user it
// reaches: ID is the broadcast's row, and each desk renders its own viewer's
// entry of it (BroadcastEntryID), if the viewer is one of them.
type NotificationEvent struct {
	ID        int64              `json:"id,omitempty"`
	Replaces  int64              `json:"replaces,omitempty"`
	Read      *NotificationsRead `json:"read,omitempty"`
	Broadcast bool               `json:"broadcast,omitempty"`
}

// Kind implements EventData.
func (NotificationEvent) Kind() string { return EventNotification }

// NotificationsRead says which notifications were read: all of them, or IDs.
// It is stored as "all" or as the list of ids.
type NotificationsRead struct {
	All bool
	IDs []int64
}

// MarshalJSON stores "all" or the ids.
func (r NotificationsRead) MarshalJSON() ([]byte, error) {
	if r.All {
		return []byte(`"all"`), nil
	}
	return json.Marshal(r.IDs)
}

// UnmarshalJSON reads "all" or a list of ids.
func (r *NotificationsRead) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "all" {
			return fmt.Errorf("notifications read: %q", s)
		}
		*r = NotificationsRead{All: true}
		return nil
	}
	*r = NotificationsRead{}
	return json.Unmarshal(b, &r.IDs)
}

// AgentEvent: Event.UserID's availability (online, away) or capacity
// changed (team_queue.go); ByUserID is who changed it (the agent, or an
// admin for the capacity). Their desks and their teammates' rosters show it.
type AgentEvent struct {
	Availability string `json:"availability,omitempty"`
	Capacity     *int   `json:"capacity,omitempty"`
	ByUserID     int64  `json:"by_user_id,omitempty"`
}

// Kind implements EventData.
func (AgentEvent) Kind() string { return EventAgent }

// RoutingEvent: ByUserID changed the routing rules (routing.go): added,
// deleted or moved RuleID. Nothing renders it; it is the record.
type RoutingEvent struct {
	RuleID   int64  `json:"rule_id"`
	Change   string `json:"change"`
	ByUserID int64  `json:"by_user_id,omitempty"`
}

// Kind implements EventData.
func (RoutingEvent) Kind() string { return EventRouting }

// ArticleEvent: ByUserID created, updated or deleted (Action: ArticleCreated,
// ArticleUpdated, ArticleDeleted) knowledge-base article ArticleID.
type ArticleEvent struct {
	ArticleID int64  `json:"article_id"`
	Action    string `json:"action"`
	ByUserID  int64  `json:"by_user_id,omitempty"`
}

// Kind implements EventData.
func (ArticleEvent) Kind() string { return EventArticle }

// UnknownEvent is an event of a kind this version does not know (written by
// a newer instance during a rolling upgrade): readers ignore it.
type UnknownEvent struct {
	EventKind string
	Raw       json.RawMessage
}

// Kind implements EventData.
func (u UnknownEvent) Kind() string { return u.EventKind }

// MarshalJSON keeps the payload as it was read.
func (u UnknownEvent) MarshalJSON() ([]byte, error) {
	if len(u.Raw) == 0 {
		return []byte("{}"), nil
	}
	return u.Raw, nil
}

// EncodeEventData returns the stored JSON of d ("{}" for kinds without
// fields).
func EncodeEventData(d EventData) (json.RawMessage, error) {
	if d == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", d.Kind(), err)
	}
	return b, nil
}

// DecodeEventData reads the stored JSON of an event of kind. Rows written
// before the payloads were typed decode the same way (same keys; an absent
// or null id is nil or 0, as before).
func DecodeEventData(kind string, raw []byte) (EventData, error) {
	var err error
	empty := len(raw) == 0 || string(raw) == "null"
	into := func(d any) {
		if !empty {
			err = json.Unmarshal(raw, d)
		}
	}
	var d EventData
	switch kind {
	case EventMessage:
		d = MessageEvent{}
	case EventRead:
		d = ReadEvent{}
	case EventDeskStatus:
		d = DeskStatusEvent{}
	case EventSettings:
		d = SettingsEvent{}
	case EventMessageChanged:
		var v MessageChangedEvent
		into(&v)
		d = v
	case EventConversation:
		var v ConversationEvent
		into(&v)
		d = v
	case EventItem:
		var v ItemEvent
		into(&v)
		d = v
	case EventAccess:
		var v AccessEvent
		into(&v)
		d = v
	case EventNotification:
		var v NotificationEvent
		into(&v)
		d = v
	case EventAgent:
		var v AgentEvent
		into(&v)
		d = v
	case EventRouting:
		var v RoutingEvent
		into(&v)
		d = v
	case EventSLABreach:
		var v SLABreachEvent
		into(&v)
		d = v
	case EventSLATargets:
		var v SLATargetsEvent
		into(&v)
		d = v
	case EventFilesRemoved:
		var v FilesRemovedEvent
		into(&v)
		d = v
	case EventRTC:
		var v RTCEvent
		into(&v)
		d = v
	case EventCobrowse:
		var v CobrowseEvent
		into(&v)
		d = v
	case EventArticle:
		var v ArticleEvent
		into(&v)
		d = v
	default:
		d = UnknownEvent{EventKind: kind, Raw: append(json.RawMessage(nil), raw...)}
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", kind, err)
	}
	return d, nil
}
