package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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

// itemChange is what one edit of one field does, computed from the form
// value against the locked current item.
type itemChange struct {
	column             string // the column updated
	value              any    // its new value (nil clears it)
	oldShown, newShown string // the history row's old and new values
	same               bool   // the field already has this value: nothing happens
	event              string // system line in each linked conversation ("" for none)
	dataKey            string // the line's data key carrying newShown
	assigneeID         *int64 // the new assignee, for notifications (ItemEvent)
}

// itemField is one editable field: compute parses and validates the form
// value and says what changes (a validation error, or same when nothing
// does); after, if set, runs once the column is updated.
type itemField struct {
	compute func(tx *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error)
	after   func(tx *gorm.DB, cur *Item) error
}

// itemFields is the one table of editable item fields (UpdateItem).
var itemFields = map[string]itemField{
	FieldTitle:       {compute: changeTitle},
	FieldDescription: {compute: changeDescription},
	FieldStatus:      {compute: changeStatus},
	FieldPriority:    {compute: changePriority},
	FieldAssignee:    {compute: changeAssignee, after: func(tx *gorm.DB, cur *Item) error { return syncItemInvolvement(tx, cur.ID) }},
	FieldTeam:        {compute: changeTeam},
	FieldDue:         {compute: changeDue},
}

func changeTitle(_ *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	t := validateTitle(v, value)
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	return itemChange{column: "title", value: t, oldShown: cur.Title, newShown: t, same: cur.Title == t}, nil
}

// The description's history row shows neither side; an unchanged
// description is a no-op even before validation.
func changeDescription(_ *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	d := validateDescription(v, value)
	if d == cur.Description {
		return itemChange{same: true}, nil
	}
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	return itemChange{column: "description", value: d}, nil
}

func changeStatus(_ *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	if !validStatus(cur.Kind, value) {
		v.Add("status", "item_status_invalid", nil)
	}
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	event := SysItemStatus
	if cur.Kind == ItemTicket && (value == ItemResolved || value == ItemClosed) {
		event = SysTicketStatus
	}
	return itemChange{column: "status", value: value, oldShown: cur.Status, newShown: value,
		same: cur.Status == value, event: event, dataKey: "status"}, nil
}

func changePriority(_ *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	if !validPriority(value) {
		v.Add("priority", "item_priority_invalid", nil)
	}
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	return itemChange{column: "priority", value: value, oldShown: cur.Priority, newShown: value,
		same: cur.Priority == value, event: SysItemPriority, dataKey: "priority"}, nil
}

func changeAssignee(tx *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	a, err := lookupAssignee(tx, v, cur.Kind, value)
	if err != nil {
		return itemChange{}, err
	}
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	ch := itemChange{column: "assignee_id", oldShown: userName(tx, cur.AssigneeID), event: SysItemAssigned, dataKey: "to"}
	var id *int64
	if a != nil {
		id = &a.ID
		ch.value, ch.newShown, ch.assigneeID = a.ID, a.Name, id
	}
	ch.same = sameID(cur.AssigneeID, id)
	return ch, nil
}

func changeTeam(tx *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	t, err := lookupTeam(tx, v, value)
	if err != nil {
		return itemChange{}, err
	}
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	ch := itemChange{column: "team_id", oldShown: teamName(tx, cur.TeamID), event: SysItemTeam, dataKey: "team"}
	var id *int64
	if t != nil {
		id = &t.ID
		ch.value, ch.newShown = t.ID, t.Name
	}
	ch.same = sameID(cur.TeamID, id)
	return ch, nil
}

func changeDue(_ *gorm.DB, v *ValidationError, cur *Item, value string) (itemChange, error) {
	d := parseDue(v, value)
	if err := v.Err(); err != nil {
		return itemChange{}, err
	}
	ch := itemChange{column: "due_on", oldShown: cur.Due(), event: SysItemDue, dataKey: "due"}
	if d != nil {
		ch.value, ch.newShown = gorm.Expr("CAST(? AS date)", *d), *d
	}
	ch.same = ch.oldShown == ch.newShown
	return ch, nil
}

// sameID reports whether two optional references are equal.
func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// UpdateItem changes one field of item (edited in place) to the form value
// value. The change is recorded in the item's history, announced in every
// linked conversation (status, assignee, team, priority and due date), and
// live to everyone viewing the item. Setting a field to what it is already
// changes nothing. The fields and what each does are in itemFields.
func UpdateItem(ctx context.Context, t Tx, u *User, item *Item, field, value string) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	spec, ok := itemFields[field]
	err := t.run(ctx, func(tx *gorm.DB) error {
		var cur Item
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&cur, item.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		if !ok {
			return Invalid("field", "item_field_invalid", nil)
		}
		ch, err := spec.compute(tx, &ValidationError{}, &cur, value)
		if err != nil || ch.same {
			return err
		}
		return applyItemChange(t, u, &cur, field, spec, ch)
	})
	return wrapUnlessDomain(err, "update item %d", item.ID)
}

// applyItemChange writes a computed change: the column, the field's after
// step, the history row, the linked conversations' system lines and the
// item's events.
func applyItemChange(t Tx, u *User, cur *Item, field string, spec itemField, ch itemChange) error {
	tx := t.db
	if err := tx.Model(&Item{}).Where("id = ?", cur.ID).Updates(map[string]any{ch.column: ch.value, "updated_at": gorm.Expr("now()")}).Error; err != nil {
		return fmt.Errorf("update item: %w", err)
	}
	if spec.after != nil {
		if err := spec.after(tx, cur); err != nil {
			return err
		}
	}
	if err := addActivity(tx, cur, u, field, ch.oldShown, ch.newShown); err != nil {
		return err
	}
	convs, err := linkedConversations(tx, cur.ID)
	if err != nil {
		return err
	}
	data := JSONMap{"by": u.Name, "ref": cur.Ref()}
	if ch.dataKey != "" {
		data[ch.dataKey] = ch.newShown
	}
	ids := make([]int64, len(convs))
	for i := range convs {
		ids[i] = convs[i].ID
		if ch.event != "" {
			if _, err := insertSystemLine(t, &convs[i], ch.event, data); err != nil {
				return err
			}
		}
	}
	// Who did it, and for an assignment to whom: what notifications
	// of item changes will need (see AudienceOf).
	return itemEvents(t, cur, ids, ItemEvent{Field: field, ByUserID: u.ID, AssigneeID: ch.assigneeID})
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
