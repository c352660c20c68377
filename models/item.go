package models

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Tickets and tasks ("items") are the work that comes out of conversations.
// A ticket is a customer's request (it has a requester); a task is work for
// the team. Tickets involve customers, so only customer-support agents see
// them; tasks are visible to every staff user.

// Item kinds.
const (
	ItemTicket = "ticket"
	ItemTask   = "task"
)

// Item statuses. Tickets: new → open → in progress / waiting on customer →
// resolved → closed. Tasks: to do → in progress → done.
const (
	ItemNew        = "new"
	ItemOpen       = "open"
	ItemInProgress = "in_progress"
	ItemWaiting    = "waiting"
	ItemResolved   = "resolved"
	ItemClosed     = "closed"
	ItemTodo       = "todo"
	ItemDone       = "done"
)

// Item priorities, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Priorities lists the priorities, lowest first.
var Priorities = []string{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

var (
	ticketStatuses = []string{ItemNew, ItemOpen, ItemInProgress, ItemWaiting, ItemResolved, ItemClosed}
	taskStatuses   = []string{ItemTodo, ItemInProgress, ItemDone}
)

// MaxItemTitle and MaxItemDescription cap an item's texts, in characters.
const (
	MaxItemTitle       = 200
	MaxItemDescription = 20000
)

// System lines written in the conversations of an item. Customers see only
// those in customerEvents: a ticket linked to their conversation and a
// ticket resolved or closed, with nothing but the ticket's reference.
const (
	SysItemLinked   = "item_linked"   // a task, or a ticket in an internal conversation
	SysTicketLinked = "ticket_linked" // "your request is now T-1042" (customer-visible)
	SysItemUnlinked = "item_unlinked"
	SysItemStatus   = "item_status"
	SysTicketStatus = "ticket_status" // a ticket resolved or closed (customer-visible)
	SysItemAssigned = "item_assigned"
	SysItemTeam     = "item_team"
	SysItemPriority = "item_priority"
	SysItemDue      = "item_due"
)

// ValidItemKind reports whether kind names an item kind.
func ValidItemKind(kind string) bool { return kind == ItemTicket || kind == ItemTask }

// ItemStatuses lists kind's statuses in workflow order.
func ItemStatuses(kind string) []string {
	if kind == ItemTicket {
		return ticketStatuses
	}
	return taskStatuses
}

// ItemStatusOpen reports whether status is one an item still needs work in.
func ItemStatusOpen(status string) bool {
	return status != ItemResolved && status != ItemClosed && status != ItemDone
}

// ItemPrefix is the letter of kind's references: T-1042, K-87.
func ItemPrefix(kind string) string {
	if kind == ItemTicket {
		return "T"
	}
	return "K"
}

// Item is a ticket or a task.
type Item struct {
	ID          int64
	Kind        string
	Number      int64
	Title       string
	Description string
	Status      string
	Priority    string
	AssigneeID  *int64
	TeamID      *int64
	RequesterID *int64
	CreatedBy   *int64
	DueOn       *time.Time `gorm:"type:date"`
	CreatedAt   time.Time
	UpdatedAt   time.Time

	Assignee  *User     `gorm:"foreignKey:AssigneeID"`
	Team      *Team     `gorm:"foreignKey:TeamID"`
	Requester *Customer `gorm:"foreignKey:RequesterID"`
	Creator   *User     `gorm:"foreignKey:CreatedBy"`
}

// Ref is how people name the item: T-1042 for a ticket, K-87 for a task.
func (i *Item) Ref() string { return ItemPrefix(i.Kind) + "-" + strconv.FormatInt(i.Number, 10) }

// Due returns the due date as YYYY-MM-DD, or "".
func (i *Item) Due() string {
	if i.DueOn == nil {
		return ""
	}
	return i.DueOn.Format(time.DateOnly)
}

// Overdue reports whether the item is still open past its due date, as of
// today (a date in the viewer's calendar).
func (i *Item) Overdue(today time.Time) bool {
	return i.DueOn != nil && ItemStatusOpen(i.Status) && i.Due() < today.Format(time.DateOnly)
}

// ItemInput is what the new-item form supplies. Assignee, Team and Due are
// the form's raw values ("" for none), checked here so every problem is
// reported beside its field.
type ItemInput struct {
	Kind        string
	Title       string
	Description string
	Status      string // "" starts at the kind's first status
	Priority    string // "" is normal
	Assignee    string
	Team        string
	Due         string
	// Conversation, if set, is linked to the new item; a ticket's requester
	// is its customer.
	Conversation *Conversation
}

// itemValues are validated inputs.
type itemValues struct {
	title, description, status, priority string
	assignee                             *User
	team                                 *Team
	due                                  *string
}

func validateTitle(v *ValidationError, title string) string {
	title = strings.TrimSpace(title)
	switch n := utf8.RuneCountInString(title); {
	case n == 0:
		v.Add("title", "item_title_empty", nil)
	case n > MaxItemTitle:
		v.Add("title", "item_title_too_long", map[string]any{"Max": MaxItemTitle, "Count": n})
	}
	return title
}

func validateDescription(v *ValidationError, d string) string {
	d = strings.TrimSpace(strings.ReplaceAll(d, "\r\n", "\n"))
	if n := utf8.RuneCountInString(d); n > MaxItemDescription {
		v.Add("description", "item_description_too_long", map[string]any{"Max": MaxItemDescription, "Count": n})
	}
	return d
}

func validStatus(kind, status string) bool {
	for _, s := range ItemStatuses(kind) {
		if s == status {
			return true
		}
	}
	return false
}

func validPriority(p string) bool {
	for _, s := range Priorities {
		if s == p {
			return true
		}
	}
	return false
}

// parseDue reads a due date (YYYY-MM-DD, as date inputs send it); "" is none.
func parseDue(v *ValidationError, s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() < 2000 || d.Year() > 2999 {
		v.Add("due", "item_due_invalid", nil)
		return nil
	}
	out := d.Format(time.DateOnly)
	return &out
}

// lookupAssignee finds who an item of kind may be assigned to: an active
// user who may see it (CanSeeItems: the customer-support flag for tickets).
// "" is nobody.
func lookupAssignee(tx *gorm.DB, v *ValidationError, kind, raw string) (*User, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var u User
	id, err := strconv.ParseInt(raw, 10, 64)
	if err == nil {
		err = tx.Where("id = ? AND active", id).Take(&u).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("look up assignee: %w", err)
		}
	}
	if err != nil || !CanSeeItems(&u, kind) {
		v.Add("assignee", "item_assignee_unknown", nil)
		return nil, nil
	}
	return &u, nil
}

// lookupTeam finds a team by its form value; "" is none.
func lookupTeam(tx *gorm.DB, v *ValidationError, raw string) (*Team, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var t Team
	id, err := strconv.ParseInt(raw, 10, 64)
	if err == nil {
		err = tx.Omit(clause.Associations).Where("id = ?", id).Take(&t).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("look up team: %w", err)
		}
	}
	if err != nil {
		v.Add("team", "item_team_unknown", nil)
		return nil, nil
	}
	return &t, nil
}
