package views

import (
	"context"
	"strconv"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
)

// Tickets and tasks: helpers for their templates (items_*.templ).

// ItemList is what a Tickets or Tasks list page shows.
type ItemList struct {
	Query models.ItemQuery
	Page  *models.ItemPage
	// Assignees are the assignee filter's chosen person (none or one: the
	// menu loads the others when used).
	Assignees []models.User
	Teams     []models.TeamOption
}

// ItemBase is the path of kind's list: /tickets or /tasks.
func ItemBase(kind string) string {
	if kind == models.ItemTicket {
		return "/tickets"
	}
	return "/tasks"
}

// ItemURL is the path of an item's page: /tickets/1042.
func ItemURL(it *models.Item) string {
	return ItemBase(it.Kind) + "/" + strconv.FormatInt(it.Number, 10)
}

func itemSafeURL(it *models.Item) templ.SafeURL { return templ.SafeURL(ItemURL(it)) }

// kindTitle is the list's heading: Tickets or Tasks.
func kindTitle(ctx context.Context, kind string) string {
	if kind == models.ItemTicket {
		return T(ctx, "items.tickets")
	}
	return T(ctx, "items.tasks")
}

// kindName is one item's kind: Ticket or Task.
func kindName(ctx context.Context, kind string) string {
	if kind == models.ItemTicket {
		return T(ctx, "items.ticket")
	}
	return T(ctx, "items.task")
}

func newItemTitle(ctx context.Context, kind string) string {
	if kind == models.ItemTicket {
		return T(ctx, "items.new_ticket")
	}
	return T(ctx, "items.new_task")
}

func createItemLabel(ctx context.Context, kind string) string {
	if kind == models.ItemTicket {
		return T(ctx, "items.create_ticket")
	}
	return T(ctx, "items.create_task")
}

// itemStatusText translates a status.
func itemStatusText(ctx context.Context, status string) string {
	switch status {
	case models.ItemNew:
		return T(ctx, "items.status_new")
	case models.ItemOpen:
		return T(ctx, "items.status_open")
	case models.ItemInProgress:
		return T(ctx, "items.status_in_progress")
	case models.ItemWaiting:
		return T(ctx, "items.status_waiting")
	case models.ItemResolved:
		return T(ctx, "items.status_resolved")
	case models.ItemClosed:
		return T(ctx, "items.status_closed")
	case models.ItemTodo:
		return T(ctx, "items.status_todo")
	case models.ItemDone:
		return T(ctx, "items.status_done")
	}
	return status
}

// priorityText translates a priority.
func priorityText(ctx context.Context, p string) string {
	switch p {
	case models.PriorityLow:
		return T(ctx, "items.priority_low")
	case models.PriorityNormal:
		return T(ctx, "items.priority_normal")
	case models.PriorityHigh:
		return T(ctx, "items.priority_high")
	case models.PriorityUrgent:
		return T(ctx, "items.priority_urgent")
	}
	return p
}

func sortText(ctx context.Context, s string) string {
	switch s {
	case models.SortCreated:
		return T(ctx, "items.sort_created")
	case models.SortDue:
		return T(ctx, "items.sort_due")
	case models.SortPriority:
		return T(ctx, "items.sort_priority")
	case models.SortNumber:
		return T(ctx, "items.sort_number")
	}
	return T(ctx, "items.sort_updated")
}

func statusBadgeClass(status string) string {
	switch status {
	case models.ItemResolved, models.ItemClosed, models.ItemDone:
		return "badge badge-muted"
	case models.ItemNew, models.ItemTodo:
		return "badge badge-accent"
	}
	return "badge badge-success"
}

func priorityClass(p string) string { return "item-priority item-priority-" + p }

// pageURL links the page after (or before) a cursor with the same filters;
// param "" is the first page.
func (l ItemList) pageURL(param string, c *models.ItemCursor) templ.SafeURL {
	q := l.Query
	q.After, q.Before = nil, nil
	switch param {
	case "after":
		q.After = c
	case "before":
		q.Before = c
	}
	s := ItemBase(q.Kind)
	if v := q.Values(); len(v) > 0 {
		s += "?" + v.Encode()
	}
	return templ.SafeURL(s)
}

// Paged reports whether the list is past its first page.
func (l ItemList) Paged() bool { return l.Query.After != nil || l.Query.Before != nil }

// activityText is one line of an item's history, in the viewer's language.
func activityText(ctx context.Context, it *models.Item, a *models.ItemActivity) string {
	by := a.ActorName
	if by == "" {
		by = T(ctx, "desk.former_agent")
	}
	d := map[string]any{"By": by, "Old": a.OldValue, "New": a.NewValue, "Ref": it.Ref()}
	switch a.Field {
	case "created":
		return T(ctx, "items.activity_created", d)
	case models.FieldTitle:
		return T(ctx, "items.activity_title", d)
	case models.FieldDescription:
		return T(ctx, "items.activity_description", d)
	case models.FieldStatus:
		d["Old"], d["New"] = itemStatusText(ctx, a.OldValue), itemStatusText(ctx, a.NewValue)
		return T(ctx, "items.activity_status", d)
	case models.FieldPriority:
		d["Old"], d["New"] = priorityText(ctx, a.OldValue), priorityText(ctx, a.NewValue)
		return T(ctx, "items.activity_priority", d)
	case models.FieldAssignee:
		if a.NewValue == "" {
			return T(ctx, "items.activity_unassigned", d)
		}
		return T(ctx, "items.activity_assignee", d)
	case models.FieldTeam:
		if a.NewValue == "" {
			return T(ctx, "items.activity_team_removed", d)
		}
		return T(ctx, "items.activity_team", d)
	case models.FieldDue:
		if a.NewValue == "" {
			return T(ctx, "items.activity_due_removed", d)
		}
		return T(ctx, "items.activity_due", d)
	case "linked":
		switch {
		case a.CustomerHidden:
			return T(ctx, "items.activity_linked_customer", d)
		case a.NewValue == "":
			return T(ctx, "items.activity_linked_chat", d)
		}
		return T(ctx, "items.activity_linked", d)
	case "unlinked":
		switch {
		case a.CustomerHidden:
			return T(ctx, "items.activity_unlinked_customer", d)
		case a.OldValue == "":
			return T(ctx, "items.activity_unlinked_chat", d)
		}
		return T(ctx, "items.activity_unlinked", d)
	}
	return a.Field
}

// itemSystemText is an item's status line in a conversation, as staff see
// it; ok is false for other lines.
func itemSystemText(ctx context.Context, m *models.Message) (string, bool) {
	str := func(k string) string { s, _ := m.EventData[k].(string); return s }
	d := map[string]any{"By": str("by"), "Ref": str("ref"), "To": str("to"), "Team": str("team"), "Due": str("due"),
		"Status": itemStatusText(ctx, str("status")), "Priority": priorityText(ctx, str("priority"))}
	switch m.Event {
	case models.SysItemLinked, models.SysTicketLinked:
		return T(ctx, "items.system_linked", d), true
	case models.SysItemUnlinked:
		return T(ctx, "items.system_unlinked", d), true
	case models.SysItemStatus, models.SysTicketStatus:
		return T(ctx, "items.system_status", d), true
	case models.SysItemAssigned:
		if str("to") == "" {
			return T(ctx, "items.system_unassigned", d), true
		}
		return T(ctx, "items.system_assigned", d), true
	case models.SysItemTeam:
		if str("team") == "" {
			return T(ctx, "items.system_team_removed", d), true
		}
		return T(ctx, "items.system_team", d), true
	case models.SysItemPriority:
		return T(ctx, "items.system_priority", d), true
	case models.SysItemDue:
		if str("due") == "" {
			return T(ctx, "items.system_due_removed", d), true
		}
		return T(ctx, "items.system_due", d), true
	}
	return "", false
}

// itemCustomerLine is the status line a customer sees about their ticket:
// only its reference and that it was resolved or closed.
func itemCustomerLine(ctx context.Context, m *models.Message) string {
	ref, _ := m.EventData["ref"].(string)
	d := map[string]any{"Ref": ref}
	switch m.Event {
	case models.SysTicketLinked:
		return T(ctx, "items.widget_linked", d)
	case models.SysTicketStatus:
		if m.EventData["status"] == models.ItemClosed {
			return T(ctx, "items.widget_closed", d)
		}
		return T(ctx, "items.widget_resolved", d)
	}
	return ""
}

// optionalID is id as a menu's value; 0 (none) is "".
func optionalID(id int64) string {
	if id == 0 {
		return ""
	}
	return idString(id)
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return idString(*id)
}

// userName is u's name; "" for nobody.
func userName(u *models.User) string {
	if u == nil {
		return ""
	}
	return u.Name
}

func userNameIn(us []models.User, id *int64) string {
	if id == nil {
		return ""
	}
	for _, u := range us {
		if u.ID == *id {
			return u.Name
		}
	}
	return ""
}
