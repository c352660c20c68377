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

// UpdateItem changes one field of item (edited in place) to the form value
// value. The change is recorded in the item's history, announced in every
// linked conversation (status, assignee, team, priority and due date), and
// live to everyone viewing the item. Setting a field to what it is already
// changes nothing.
func UpdateItem(ctx context.Context, t Tx, u *User, item *Item, field, value string) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
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
				if _, err := insertSystemLine(t, &convs[i], event, data); err != nil {
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
		return itemEvents(t, &cur, ids, evData)
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
