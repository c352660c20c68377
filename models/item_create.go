package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// CreateItem stores a new ticket or task by u, numbered next in its kind,
// and links in.Conversation to it if given. Nothing is stored when the input
// is invalid or the conversation cannot take another item
// (MaxConversationItems).
func CreateItem(ctx context.Context, t Tx, u *User, in ItemInput) (*Item, error) {
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
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		if vals.assignee, err = lookupAssignee(tx, v, in.Kind, in.Assignee); err != nil {
			return err
		}
		if vals.team, err = lookupTeam(tx, v, in.Team); err != nil {
			return err
		}
		var conv *Conversation
		if in.Conversation != nil {
			if conv, err = lockLinkable(tx, v, in.Conversation.ID, 0); err != nil {
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
		if err := appendEvent(t, Event{ItemID: &item.ID, Data: ItemEvent{Created: true, ByUserID: u.ID, AssigneeID: item.AssigneeID}}); err != nil {
			return err
		}
		if conv != nil {
			if err := link(t, u, item, conv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "create %s", in.Kind)
	}
	return item, nil
}
