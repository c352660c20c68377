package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
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
// user, with the customer-support flag for tickets. "" is nobody.
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
	if err != nil || (kind == ItemTicket && !CanSeeCustomerData(&u)) {
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

// CreateItem stores a new ticket or task by u, numbered next in its kind,
// and links in.Conversation to it if given. Nothing is stored when the input
// is invalid or the conversation already has an item.
func CreateItem(ctx context.Context, db *gorm.DB, u *User, in ItemInput) (*Item, error) {
	if !CanSeeItems(u, in.Kind) {
		return nil, ErrNotFound
	}
	v := &ValidationError{}
	vals := itemValues{
		title:       validateTitle(v, in.Title),
		description: validateDescription(v, in.Description),
		status:      in.Status,
		priority:    in.Priority,
		due:         parseDue(v, in.Due),
	}
	if vals.status == "" {
		vals.status = ItemStatuses(in.Kind)[0]
	} else if !validStatus(in.Kind, vals.status) {
		v.Add("status", "item_status_invalid", nil)
	}
	if vals.priority == "" {
		vals.priority = PriorityNormal
	} else if !validPriority(vals.priority) {
		v.Add("priority", "item_priority_invalid", nil)
	}
	var item *Item
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if vals.assignee, err = lookupAssignee(tx, v, in.Kind, in.Assignee); err != nil {
			return err
		}
		if vals.team, err = lookupTeam(tx, v, in.Team); err != nil {
			return err
		}
		var conv *Conversation
		if in.Conversation != nil {
			if conv, err = lockLinkable(tx, v, in.Conversation.ID); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		// The counter row stays locked until commit: concurrent creations
		// queue here, and a rollback gives the number back.
		var number int64
		if err := tx.Raw("UPDATE item_counters SET last_number = last_number + 1 WHERE kind = ? RETURNING last_number", in.Kind).
			Scan(&number).Error; err != nil {
			return fmt.Errorf("next item number: %w", err)
		}
		if number == 0 {
			return fmt.Errorf("next item number: no counter for %q", in.Kind)
		}
		var requester *int64
		if in.Kind == ItemTicket && conv != nil && conv.Kind == KindCustomer {
			requester = conv.CustomerID
		}
		item = &Item{Kind: in.Kind, Number: number, Title: vals.title, Description: vals.description,
			Status: vals.status, Priority: vals.priority, RequesterID: requester, CreatedBy: &u.ID,
			Assignee: vals.assignee, Team: vals.team}
		if vals.assignee != nil {
			item.AssigneeID = &vals.assignee.ID
		}
		if vals.team != nil {
			item.TeamID = &vals.team.ID
		}
		var row struct {
			ID        int64
			CreatedAt time.Time
			DueOn     *time.Time
		}
		err = tx.Raw(`
			INSERT INTO items (kind, number, title, description, status, priority, assignee_id, team_id, requester_id, created_by, due_on)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS date))
			RETURNING id, created_at, due_on`,
			item.Kind, item.Number, item.Title, item.Description, item.Status, item.Priority,
			item.AssigneeID, item.TeamID, item.RequesterID, item.CreatedBy, vals.due).Scan(&row).Error
		if err != nil {
			return fmt.Errorf("insert item: %w", err)
		}
		item.ID, item.CreatedAt, item.UpdatedAt, item.DueOn = row.ID, row.CreatedAt, row.CreatedAt, row.DueOn
		if err := addActivity(tx, item, u, "created", "", item.Ref()); err != nil {
			return err
		}
		if err := appendEvent(tx, Event{ItemID: &item.ID, Data: ItemEvent{Created: true, ByUserID: u.ID, AssigneeID: item.AssigneeID}}); err != nil {
			return err
		}
		if conv != nil {
			if err := link(tx, u, item, conv); err != nil {
				return err
			}
			in.Conversation.ItemID = &item.ID
		}
		return nil
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "create %s", in.Kind)
	}
	return item, nil
}

// lockLinkable locks a conversation about to be linked; one that already
// has an item is a validation problem.
func lockLinkable(tx *gorm.DB, v *ValidationError, convID int64) (*Conversation, error) {
	var conv Conversation
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&conv, convID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("lock conversation: %w", err)
	}
	if conv.ItemID != nil {
		v.Add("conversation", "item_conversation_linked", nil)
	}
	return &conv, nil
}

// addActivity records one change of item by u in its history.
func addActivity(tx *gorm.DB, item *Item, u *User, field, oldValue, newValue string) error {
	err := tx.Exec("INSERT INTO item_activities (item_id, actor_id, actor_name, field, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?)",
		item.ID, u.ID, u.Name, field, oldValue, newValue).Error
	if err != nil {
		return fmt.Errorf("item activity: %w", err)
	}
	return nil
}

// link attaches conv (locked, without an item) to item, with a status line
// in the conversation: a customer sees that their request is now a ticket.
func link(tx *gorm.DB, u *User, item *Item, conv *Conversation) error {
	if err := tx.Exec("UPDATE conversations SET item_id = ?, updated_at = now() WHERE id = ?", item.ID, conv.ID).Error; err != nil {
		return fmt.Errorf("link conversation: %w", err)
	}
	conv.ItemID = &item.ID
	if err := syncItemInvolvement(tx, item.ID); err != nil {
		return err
	}
	event := SysItemLinked
	if item.Kind == ItemTicket && conv.Kind == KindCustomer {
		event = SysTicketLinked
	}
	if _, err := insertSystemLine(tx, conv, event, JSONMap{"by": u.Name, "ref": item.Ref()}); err != nil {
		return err
	}
	if err := addActivity(tx, item, u, "linked", "", conversationLabel(tx, conv)); err != nil {
		return err
	}
	if err := touchItem(tx, item); err != nil {
		return err
	}
	return itemEvents(tx, item, []int64{conv.ID}, ItemEvent{Linked: true})
}

// syncItemInvolvement makes the rows of item's linked conversations say who
// is involved in it (assignee, creator, followers): their My conversations
// hold those conversations (conversation_users.via_item). It runs after every
// change of who that is, or of which conversations are linked.
func syncItemInvolvement(tx *gorm.DB, itemID int64) error {
	err := tx.Exec(`
		WITH inv AS (
			SELECT assignee_id AS user_id FROM items WHERE id = @item AND assignee_id IS NOT NULL
			UNION SELECT created_by FROM items WHERE id = @item AND created_by IS NOT NULL
			UNION SELECT user_id FROM item_followers WHERE item_id = @item
		), convs AS (
			SELECT id FROM conversations WHERE item_id = @item
		), cleared AS (
			UPDATE conversation_users SET via_item = false
			WHERE conversation_id IN (SELECT id FROM convs) AND via_item
			  AND user_id NOT IN (SELECT user_id FROM inv)
		)
		INSERT INTO conversation_users (conversation_id, user_id, via_item)
		SELECT convs.id, inv.user_id, true FROM convs, inv
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET via_item = true
		WHERE NOT conversation_users.via_item`, map[string]any{"item": itemID}).Error
	if err != nil {
		return fmt.Errorf("sync item involvement: %w", err)
	}
	return nil
}

// conversationLabel names a conversation in an item's history: its
// customer, or "internal" for a teammates' chat.
func conversationLabel(tx *gorm.DB, conv *Conversation) string {
	if conv.CustomerID == nil {
		return ""
	}
	var c Customer
	if err := tx.Take(&c, *conv.CustomerID).Error; err != nil {
		return ""
	}
	return c.DisplayName()
}

// touchItem moves the item's updated_at (lists sort by it).
func touchItem(tx *gorm.DB, item *Item) error {
	return tx.Raw("UPDATE items SET updated_at = now() WHERE id = ? RETURNING updated_at", item.ID).Scan(&item.UpdatedAt).Error
}

// itemEvents announces a change of item: once for pages showing the item,
// and once per conversation whose panel shows it.
func itemEvents(tx *gorm.DB, item *Item, convIDs []int64, data ItemEvent) error {
	if err := appendEvent(tx, Event{ItemID: &item.ID, Data: data}); err != nil {
		return err
	}
	for _, id := range convIDs {
		if err := appendEvent(tx, Event{ItemID: &item.ID, ConversationID: &id, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// linkedConversations returns the conversations linked to item.
func linkedConversations(tx *gorm.DB, itemID int64) ([]Conversation, error) {
	var cs []Conversation
	err := tx.Omit(clause.Associations).Where("item_id = ?", itemID).Order("id").Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("linked conversations: %w", err)
	}
	return cs, nil
}

// LinkConversation links conv to item (both visible to u). A conversation
// has at most one item: one already linked is a validation error.
func LinkConversation(ctx context.Context, db *gorm.DB, u *User, item *Item, conv *Conversation) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		v := &ValidationError{}
		locked, err := lockLinkable(tx, v, conv.ID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&Item{}, item.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("item", "item_unknown", nil)
			}
			return err
		}
		if err := link(tx, u, item, locked); err != nil {
			return err
		}
		conv.ItemID = &item.ID
		return nil
	})
	return wrapUnlessDomain(err, "link conversation %d to item %d", conv.ID, item.ID)
}

// UnlinkConversation detaches conv from its item.
func UnlinkConversation(ctx context.Context, db *gorm.DB, u *User, conv *Conversation) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked Conversation
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&locked, conv.ID).Error; err != nil {
			return err
		}
		if locked.ItemID == nil {
			return Invalid("conversation", "item_conversation_not_linked", nil)
		}
		var item Item
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&item, *locked.ItemID).Error; err != nil {
			return err
		}
		if !CanSeeItems(u, item.Kind) {
			return ErrNotFound
		}
		if err := tx.Exec("UPDATE conversations SET item_id = NULL, updated_at = now() WHERE id = ?", conv.ID).Error; err != nil {
			return err
		}
		conv.ItemID = nil
		if err := tx.Exec("UPDATE conversation_users SET via_item = false WHERE conversation_id = ? AND via_item", conv.ID).Error; err != nil {
			return fmt.Errorf("unlink conversation: %w", err)
		}
		if _, err := insertSystemLine(tx, &locked, SysItemUnlinked, JSONMap{"by": u.Name, "ref": item.Ref()}); err != nil {
			return err
		}
		if err := addActivity(tx, &item, u, "unlinked", conversationLabel(tx, &locked), ""); err != nil {
			return err
		}
		if err := touchItem(tx, &item); err != nil {
			return err
		}
		return itemEvents(tx, &item, []int64{conv.ID}, ItemEvent{Unlinked: true})
	})
	return wrapUnlessDomain(err, "unlink conversation %d", conv.ID)
}

// Editable item fields (UpdateItem).
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldStatus      = "status"
	FieldPriority    = "priority"
	FieldAssignee    = "assignee"
	FieldTeam        = "team"
	FieldDue         = "due"
)

// UpdateItem changes one field of item (edited in place) to the form value
// value. The change is recorded in the item's history, announced in every
// linked conversation (status, assignee, team, priority and due date), and
// live to everyone viewing the item. Setting a field to what it is already
// changes nothing.
func UpdateItem(ctx context.Context, db *gorm.DB, u *User, item *Item, field, value string) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur Item
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&cur, item.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		v := &ValidationError{}
		var column string
		var newVal any
		var oldShown, newShown, event string
		data := JSONMap{"by": u.Name, "ref": cur.Ref()}
		switch field {
		case FieldTitle:
			t := validateTitle(v, value)
			column, newVal, oldShown, newShown = "title", t, cur.Title, t
		case FieldDescription:
			d := validateDescription(v, value)
			column, newVal, oldShown, newShown = "description", d, "", ""
			if d == cur.Description {
				return nil
			}
		case FieldStatus:
			if !validStatus(cur.Kind, value) {
				v.Add("status", "item_status_invalid", nil)
			}
			column, newVal, oldShown, newShown, event = "status", value, cur.Status, value, SysItemStatus
			data["status"] = value
			if cur.Kind == ItemTicket && (value == ItemResolved || value == ItemClosed) {
				event = SysTicketStatus
			}
		case FieldPriority:
			if !validPriority(value) {
				v.Add("priority", "item_priority_invalid", nil)
			}
			column, newVal, oldShown, newShown, event = "priority", value, cur.Priority, value, SysItemPriority
			data["priority"] = value
		case FieldAssignee:
			a, err := lookupAssignee(tx, v, cur.Kind, value)
			if err != nil {
				return err
			}
			if err := v.Err(); err != nil {
				return err
			}
			column, event = "assignee_id", SysItemAssigned
			oldShown = userName(tx, cur.AssigneeID)
			if a != nil {
				newVal, newShown = a.ID, a.Name
				if cur.AssigneeID != nil && *cur.AssigneeID == a.ID {
					return nil
				}
			} else {
				newVal = nil
				if cur.AssigneeID == nil {
					return nil
				}
			}
			data["to"] = newShown
		case FieldTeam:
			t, err := lookupTeam(tx, v, value)
			if err != nil {
				return err
			}
			if err := v.Err(); err != nil {
				return err
			}
			column, event = "team_id", SysItemTeam
			oldShown = teamName(tx, cur.TeamID)
			if t != nil {
				newVal, newShown = t.ID, t.Name
				if cur.TeamID != nil && *cur.TeamID == t.ID {
					return nil
				}
			} else {
				newVal = nil
				if cur.TeamID == nil {
					return nil
				}
			}
			data["team"] = newShown
		case FieldDue:
			d := parseDue(v, value)
			column, event, oldShown = "due_on", SysItemDue, cur.Due()
			if d != nil {
				newVal, newShown = *d, *d
			} else {
				newVal = nil
			}
			data["due"] = newShown
		default:
			return Invalid("field", "item_field_invalid", nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if field != FieldAssignee && field != FieldTeam && oldShown == newShown && field != FieldDescription {
			return nil
		}
		if column == "due_on" && newVal != nil {
			newVal = gorm.Expr("CAST(? AS date)", newVal)
		}
		if err := tx.Model(&Item{}).Where("id = ?", cur.ID).Updates(map[string]any{column: newVal, "updated_at": gorm.Expr("now()")}).Error; err != nil {
			return fmt.Errorf("update item: %w", err)
		}
		if column == "assignee_id" {
			if err := syncItemInvolvement(tx, cur.ID); err != nil {
				return err
			}
		}
		if err := addActivity(tx, &cur, u, field, oldShown, newShown); err != nil {
			return err
		}
		convs, err := linkedConversations(tx, cur.ID)
		if err != nil {
			return err
		}
		ids := make([]int64, len(convs))
		for i := range convs {
			ids[i] = convs[i].ID
			if event != "" {
				if _, err := insertSystemLine(tx, &convs[i], event, data); err != nil {
					return err
				}
			}
		}
		// Who did it, and for an assignment to whom: what notifications
		// of item changes will need (see AudienceOf).
		evData := ItemEvent{Field: field, ByUserID: u.ID}
		if id, ok := newVal.(int64); ok && field == FieldAssignee {
			evData.AssigneeID = &id
		}
		return itemEvents(tx, &cur, ids, evData)
	})
	return wrapUnlessDomain(err, "update item %d", item.ID)
}

func userName(tx *gorm.DB, id *int64) string {
	if id == nil {
		return ""
	}
	var name string
	tx.Raw("SELECT name FROM users WHERE id = ?", *id).Scan(&name)
	return name
}

func teamName(tx *gorm.DB, id *int64) string {
	if id == nil {
		return ""
	}
	var name string
	tx.Raw("SELECT name FROM teams WHERE id = ?", *id).Scan(&name)
	return name
}

// SetItemFollowing makes u follow item (its conversations then show in
// their My conversations) or stop following it.
func SetItemFollowing(ctx context.Context, db *gorm.DB, u *User, item *Item, follow bool) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var res *gorm.DB
		if follow {
			res = tx.Exec("INSERT INTO item_followers (item_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", item.ID, u.ID)
		} else {
			res = tx.Exec("DELETE FROM item_followers WHERE item_id = ? AND user_id = ?", item.ID, u.ID)
		}
		if res.Error != nil {
			return fmt.Errorf("set item following: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := syncItemInvolvement(tx, item.ID); err != nil {
			return err
		}
		if err := appendEvent(tx, Event{ItemID: &item.ID, UserID: &u.ID, Data: ItemEvent{Following: &follow}}); err != nil {
			return err
		}
		// The linked conversations move in or out of u's My conversations.
		convs, err := linkedConversations(tx, item.ID)
		if err != nil {
			return err
		}
		for i := range convs {
			if err := appendEvent(tx, Event{ConversationID: &convs[i].ID, UserID: &u.ID, Data: ConversationEvent{ItemFollowing: &follow}}); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapUnlessDomain(err, "follow item %d", item.ID)
}

// refRe reads an item reference as people type it: "T-1042", "t1042",
// "#1042" or just "1042".
var refRe = regexp.MustCompile(`^(?i)([tk])?-?#?(\d{1,18})$`)

// ParseItemRef reads a reference like T-1042; kind is "" when only a number
// was given.
func ParseItemRef(s string) (kind string, number int64, ok bool) {
	m := refRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	switch strings.ToUpper(m[1]) {
	case "T":
		kind = ItemTicket
	case "K":
		kind = ItemTask
	}
	return kind, n, true
}

// ParseItemRefFor reads a reference as u means it (ParseItemRef): a bare
// number is a ticket for those who may see tickets, a task for everyone
// else.
func ParseItemRefFor(u *User, s string) (kind string, number int64, ok bool) {
	kind, number, ok = ParseItemRef(s)
	if ok && kind == "" {
		kind = ItemTask
		if CanSeeItems(u, ItemTicket) {
			kind = ItemTicket
		}
	}
	return kind, number, ok
}

// FindItem returns the item of kind with number, with its people, if u may
// see it; otherwise ErrNotFound.
func FindItem(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*Item, error) {
	if !CanSeeItems(u, kind) {
		return nil, ErrNotFound
	}
	var it Item
	err := db.WithContext(ctx).Joins("Assignee").Joins("Team").Joins("Requester").Joins("Creator").
		Where("items.kind = ? AND items.number = ?", kind, number).Take(&it).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find item: %w", err)
	}
	return &it, nil
}

// SearchItems finds items u may see by reference ("T-1042", "1042") or by
// words of their title, most recently updated first.
func SearchItems(ctx context.Context, db *gorm.DB, u *User, query string, limit int) ([]Item, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	// One ordered, limited search per kind, merged: each can walk its
	// kind's recently-updated index and stop early when the words are
	// common, or use the title's trigram index when they are rare.
	var parts []string
	args := map[string]any{"pattern": "%" + escapeLike(query) + "%", "limit": limit}
	match := "title ILIKE @pattern"
	if kind, n, ok := ParseItemRef(query); ok {
		args["number"] = n
		match = "(number = @number OR title ILIKE @pattern)"
		if kind != "" {
			args["refkind"] = kind
			match = "(kind = @refkind AND number = @number)"
		}
	}
	for _, k := range []string{ItemTicket, ItemTask} {
		if CanSeeItems(u, k) {
			parts = append(parts, `(SELECT * FROM items WHERE kind = '`+k+`' AND `+match+` ORDER BY updated_at DESC, id DESC LIMIT @limit)`)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	var out []Item
	err := db.WithContext(ctx).Raw(`SELECT * FROM (`+strings.Join(parts, " UNION ALL ")+`) s ORDER BY updated_at DESC, id DESC LIMIT @limit`, args).
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	return out, nil
}

// escapeLike quotes LIKE's wildcards so a search matches them literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ItemActivity is one entry of an item's history.
type ItemActivity struct {
	ID        int64
	ItemID    int64
	ActorID   *int64
	ActorName string
	Field     string
	OldValue  string
	NewValue  string
	CreatedAt time.Time
	// CustomerHidden is set on a "linked"/"unlinked" entry whose customer's
	// name was withheld from a viewer without the support flag
	// (ItemActivity.Redact): the entry still says a customer's conversation
	// was linked, without naming them.
	CustomerHidden bool `gorm:"-"`
}

// Redact withholds customer data from u in an entry of an item's history:
// "linked"/"unlinked" entries name the customer of the conversation (a
// teammate chat has no name there). Tasks are for all staff, so their
// history reaches agents who may not see customers.
func (a *ItemActivity) Redact(u *User) {
	if CanSeeCustomerData(u) || (a.Field != "linked" && a.Field != "unlinked") {
		return
	}
	if a.OldValue != "" || a.NewValue != "" {
		a.OldValue, a.NewValue, a.CustomerHidden = "", "", true
	}
}

// ItemView is everything an item's page shows.
type ItemView struct {
	Item          *Item
	Activities    []ItemActivity
	Conversations []InboxRow
	Following     bool
	// Assignees are who the item may be assigned to; Teams the teams.
	Assignees []User
	Teams     []Team
}

// ItemActivityLimit is how much history an item page shows (newest).
const ItemActivityLimit = 200

// OpenItem loads the item page of kind/number for u.
func OpenItem(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*ItemView, error) {
	it, err := FindItem(ctx, db, u, kind, number)
	if err != nil {
		return nil, err
	}
	v := &ItemView{Item: it}
	db = db.WithContext(ctx)
	if err := db.Raw(`SELECT * FROM (SELECT * FROM item_activities WHERE item_id = ? ORDER BY id DESC LIMIT ?) a ORDER BY id`,
		it.ID, ItemActivityLimit).Scan(&v.Activities).Error; err != nil {
		return nil, fmt.Errorf("item activities: %w", err)
	}
	for i := range v.Activities {
		v.Activities[i].Redact(u)
	}
	// Only the conversations u may open.
	if err := db.Raw(rowSelect+` WHERE c.item_id = @item AND `+visibleToUser+` ORDER BY c.last_message_at DESC, c.id DESC LIMIT 100`,
		map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "item": it.ID}).Scan(&v.Conversations).Error; err != nil {
		return nil, fmt.Errorf("item conversations: %w", err)
	}
	if err := db.Raw("SELECT EXISTS (SELECT 1 FROM item_followers WHERE item_id = ? AND user_id = ?)", it.ID, u.ID).Scan(&v.Following).Error; err != nil {
		return nil, fmt.Errorf("item following: %w", err)
	}
	if v.Assignees, v.Teams, err = ItemChoices(ctx, db, it.Kind); err != nil {
		return nil, err
	}
	return v, nil
}

// ItemChoices lists who items of kind may be assigned to, and the teams.
func ItemChoices(ctx context.Context, db *gorm.DB, kind string) ([]User, []Team, error) {
	var us []User
	var err error
	if kind == ItemTicket {
		us, err = SupportAgents(ctx, db)
	} else {
		us, err = ActiveUsers(ctx, db)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("item assignees: %w", err)
	}
	var ts []Team
	if err := db.WithContext(ctx).Omit(clause.Associations).Order("lower(name), id").Find(&ts).Error; err != nil {
		return nil, nil, fmt.Errorf("teams: %w", err)
	}
	return us, ts, nil
}

// ItemPanel is a conversation's item as its side panel shows it.
type ItemPanel struct {
	Item      *Item
	Following bool
	Assignees []User
	Teams     []Team
}

// ConversationItem returns the panel of conv's item for u: nil when conv
// has no item or u may not see it. One query for the item (with the
// viewer's follow), one each for the choices; agents, when the caller has
// already loaded the support agents, stand for a ticket's assignees.
func ConversationItem(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, agents []User) (*ItemPanel, error) {
	if conv.ItemID == nil {
		return nil, nil
	}
	var row struct {
		Item
		Following    bool
		AssigneeName string
	}
	err := db.WithContext(ctx).Raw(`
		SELECT i.*, EXISTS (SELECT 1 FROM item_followers f WHERE f.item_id = i.id AND f.user_id = ?) AS following,
		       COALESCE((SELECT name FROM users WHERE id = i.assignee_id), '') AS assignee_name
		FROM items i WHERE i.id = ?`, u.ID, *conv.ItemID).Scan(&row).Error
	if err != nil {
		return nil, fmt.Errorf("conversation item: %w", err)
	}
	if row.ID == 0 || !CanSeeItems(u, row.Kind) {
		return nil, nil
	}
	it := row.Item
	if it.AssigneeID != nil {
		it.Assignee = &User{ID: *it.AssigneeID, Name: row.AssigneeName}
	}
	p := &ItemPanel{Item: &it, Following: row.Following}
	if it.Kind == ItemTicket && agents != nil {
		p.Assignees = agents
		if err := db.WithContext(ctx).Omit(clause.Associations).Order("lower(name), id").Find(&p.Teams).Error; err != nil {
			return nil, fmt.Errorf("teams: %w", err)
		}
		return p, nil
	}
	if p.Assignees, p.Teams, err = ItemChoices(ctx, db, it.Kind); err != nil {
		return nil, err
	}
	return p, nil
}

// ItemDraft is the new-item form filled in from a conversation: the
// customer's first message as title, the latest messages as description,
// the conversation's assignee and team.
type ItemDraft struct {
	Title, Description, Assignee, Team string
}

// DraftFromConversation prepares a new item from conv (already visible to
// the asker). Notes and status lines are left out of the excerpt.
func DraftFromConversation(ctx context.Context, db *gorm.DB, conv *Conversation) (ItemDraft, error) {
	var d ItemDraft
	db = db.WithContext(ctx)
	var first string
	if conv.Kind == KindCustomer {
		if err := db.Raw(`SELECT body FROM messages WHERE conversation_id = ? AND kind = 'message' AND author_type = 'customer' ORDER BY id LIMIT 1`,
			conv.ID).Scan(&first).Error; err != nil {
			return d, fmt.Errorf("draft title: %w", err)
		}
	}
	if first == "" {
		if err := db.Raw(`SELECT body FROM messages WHERE conversation_id = ? AND kind = 'message' ORDER BY id LIMIT 1`, conv.ID).Scan(&first).Error; err != nil {
			return d, fmt.Errorf("draft title: %w", err)
		}
	}
	d.Title = strings.Join(strings.Fields(first), " ")
	if utf8.RuneCountInString(d.Title) > MaxItemTitle {
		d.Title = strings.TrimSpace(string([]rune(d.Title)[:MaxItemTitle-1])) + "…"
	}
	var ms []Message
	if err := db.Joins("AuthorUser").Joins("AuthorCustomer").
		Where("messages.conversation_id = ? AND messages.kind = 'message'", conv.ID).
		Order("messages.id DESC").Limit(10).Find(&ms).Error; err != nil {
		return d, fmt.Errorf("draft excerpt: %w", err)
	}
	var b strings.Builder
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		name := "?"
		switch {
		case m.AuthorUser != nil:
			name = m.AuthorUser.Name
		case m.AuthorCustomer != nil:
			name = m.AuthorCustomer.DisplayName()
		}
		fmt.Fprintf(&b, "%s (%s UTC): %s\n\n", name, m.CreatedAt.UTC().Format("2006-01-02 15:04"), m.Body)
	}
	d.Description = clip(strings.TrimSpace(b.String()), MaxItemDescription)
	if conv.AssigneeID != nil {
		d.Assignee = strconv.FormatInt(*conv.AssigneeID, 10)
	}
	if conv.TeamID != nil {
		d.Team = strconv.FormatInt(*conv.TeamID, 10)
	}
	return d, nil
}

// ItemPanelFor returns the details of kind/number as panels show them.
func ItemPanelFor(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*ItemPanel, error) {
	it, err := FindItem(ctx, db, u, kind, number)
	if err != nil {
		return nil, err
	}
	p := &ItemPanel{Item: it}
	if err := db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM item_followers WHERE item_id = ? AND user_id = ?)", it.ID, u.ID).
		Scan(&p.Following).Error; err != nil {
		return nil, fmt.Errorf("item following: %w", err)
	}
	if p.Assignees, p.Teams, err = ItemChoices(ctx, db, it.Kind); err != nil {
		return nil, err
	}
	return p, nil
}

// OpenItemByID is OpenItem for an item known by id (live updates).
func OpenItemByID(ctx context.Context, db *gorm.DB, u *User, id int64) (*ItemView, error) {
	var key struct {
		Kind   string
		Number int64
	}
	if err := db.WithContext(ctx).Raw("SELECT kind, number FROM items WHERE id = ?", id).Scan(&key).Error; err != nil {
		return nil, fmt.Errorf("item %d: %w", id, err)
	}
	if key.Number == 0 {
		return nil, ErrNotFound
	}
	return OpenItem(ctx, db, u, key.Kind, key.Number)
}
