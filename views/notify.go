package views

import (
	"context"
	"strconv"
	"time"

	"github.com/parleydesk/parley/models"
)

// Notifications is what the notifications page shows.
type Notifications struct {
	List []models.Notification
	// Older is the id to page from ("Older" link), 0 when this is the end.
	Older int64
	// Unread is the number on the bell.
	Unread int
}

// notifCustomer is the customer a notification is about, as the desk names
// them.
func notifCustomer(ctx context.Context, n *models.Notification) string {
	if c := n.Text("customer"); c != "" {
		return c
	}
	return visitorName(ctx, n.CustomerID())
}

// notifActor is who acted; a customer without a name is named like in the
// desk's lists.
func notifActor(ctx context.Context, n *models.Notification) string {
	if a := n.Text("actor"); a != "" {
		return a
	}
	if n.Flag("from_customer") {
		return notifCustomer(ctx, n)
	}
	return T(ctx, "desk.former_agent")
}

// NotificationHeadline says what happened, in the viewer's language.
func NotificationHeadline(ctx context.Context, n *models.Notification) string {
	data := map[string]any{"Customer": notifCustomer(ctx, n), "Actor": notifActor(ctx, n)}
	switch n.Reason {
	case models.ReasonNewConversation:
		return T(ctx, "notify.new_conversation", data)
	case models.ReasonAssigned:
		if n.Flag("auto") {
			return T(ctx, "teams.notify_auto_assigned", data)
		}
		return T(ctx, "notify.assigned", data)
	case models.ReasonTeamQueue:
		return T(ctx, "teams.notify_team_queue", data)
	case models.ReasonInvited:
		return T(ctx, "notify.invited", data)
	case models.ReasonSLABreach:
		if n.Text("target") == models.SLANext {
			return T(ctx, "sla.notify_next", data)
		}
		return T(ctx, "sla.notify_first", data)
	case models.ReasonMentioned:
		data["Ref"], data["Title"] = n.Text("ref"), n.Text("title")
		return T(ctx, "comments.notify_mentioned", data)
	case models.ReasonItemAssigned, models.ReasonItemChanged:
		data["Ref"], data["Title"] = n.Text("ref"), n.Text("title")
		if n.Reason == models.ReasonItemAssigned {
			return T(ctx, "notify.item_assigned", data)
		}
		if id, ok := itemChangeIDs[n.Text("field")]; ok {
			return T(ctx, id, data)
		}
		return T(ctx, "notify.item_changed", data)
	case models.ReasonMessage:
		switch {
		case n.Flag("internal"):
			return T(ctx, "notify.teammate_wrote", data)
		case n.Flag("private"):
			return T(ctx, "private.notify", data)
		case n.Flag("note"):
			return T(ctx, "notify.note_added", data)
		case n.Flag("from_customer"):
			return T(ctx, "notify.customer_wrote", data)
		}
		return T(ctx, "notify.agent_replied", data)
	}
	return n.Reason
}

// itemChangeIDs are the headlines of a change to a followed item, by field.
var itemChangeIDs = map[string]string{
	models.FieldStatus:      "notify.item_changed_status",
	models.FieldPriority:    "notify.item_changed_priority",
	models.FieldAssignee:    "notify.item_changed_assignee",
	models.FieldTeam:        "notify.item_changed_team",
	models.FieldDue:         "notify.item_changed_due",
	models.FieldTitle:       "notify.item_changed_title",
	models.FieldDescription: "notify.item_changed_description",
	models.FieldComment:     "comments.notify_commented",
}

// notifURL is what a notification opens.
func notifURL(n *models.Notification) string {
	if n.ConversationPublicID != "" {
		return "/conversations/" + n.ConversationPublicID
	}
	if n.ItemID != nil {
		num, _ := n.Data["number"].(float64)
		return ItemURL(&models.Item{Kind: n.Text("kind"), Number: int64(num)})
	}
	return "/notifications"
}

// notifAlertID names a notification's alert toast. A new conversation's
// alert has the id of the desk's own new-conversation alert, so a desk that
// showed that one does not chime twice (desk.js drops ids it announced).
func notifAlertID(n *models.Notification) string {
	if n.Reason == models.ReasonNewConversation && n.ConversationPublicID != "" {
		return "alert-" + n.ConversationPublicID
	}
	return "alert-n" + strconv.FormatInt(n.ID, 10)
}

func notifEntryID(id int64) string { return "notif-" + strconv.FormatInt(id, 10) }

// bellCount is the bell's badge text: "99+" past 99.
func bellCount(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

// bellTitle describes the bell's count.
func bellTitle(ctx context.Context, n int) string {
	if n > 99 {
		return T(ctx, "notify.unread_many")
	}
	return T(ctx, "notify.unread", map[string]any{"Count": n})
}

func navNotifications(d *Desk) int {
	if d == nil {
		return 0
	}
	return d.Nav.Notifications
}

// idleFor is an auto-close delay in words ("90 minutes", "2 hours", "3 days").
func idleFor(ctx context.Context, minutes int) string {
	switch {
	case minutes > 0 && minutes%(24*60) == 0:
		return T(ctx, "notify.days", map[string]any{"Count": minutes / (24 * 60)})
	case minutes > 0 && minutes%60 == 0:
		return T(ctx, "notify.hours", map[string]any{"Count": minutes / 60})
	}
	return T(ctx, "notify.minutes", map[string]any{"Count": minutes})
}

// autoClosedLine is the auto_closed status line for staff (customer: false)
// or the customer.
func autoClosedLine(ctx context.Context, m *models.Message, customer bool) string {
	minutes := 0
	if v, ok := m.EventData["minutes"].(float64); ok {
		minutes = int(v)
	}
	if customer {
		return T(ctx, "notify.widget_auto_closed", map[string]any{"Duration": idleFor(ctx, minutes)})
	}
	return T(ctx, "notify.system_auto_closed", map[string]any{"Duration": idleFor(ctx, minutes)})
}

// AutoCloseValues fills the auto-close form from the settings: whole hours
// show as hours.
func AutoCloseValues(s *models.DeskSettings) map[string]string {
	v := map[string]string{"auto_close_unit": "hours"}
	if m := s.AutoCloseAfterMinutes; m != nil {
		if *m%60 == 0 {
			v["auto_close_amount"] = strconv.Itoa(*m / 60)
		} else {
			v["auto_close_amount"], v["auto_close_unit"] = strconv.Itoa(*m), "minutes"
		}
	}
	return v
}

// AdminConversations is the conversation settings page.
type AdminConversations struct {
	Settings *models.DeskSettings
	Form     Form
	// Waiting is the waiting-time thresholds form (views/waiting.templ).
	Waiting Form
	// SupportKey is the support-key lifetime form (views/sessions.templ).
	SupportKey Form
	// DeskChanges are the latest switches of the desk online or offline.
	DeskChanges []models.DeskStatusChange
	// Files is the file limits form, FilesUse what the files take
	// (views/files.templ).
	Files    Form
	FilesUse FilesUse
}

func autoCloseOn(s *models.DeskSettings) bool { return s.AutoCloseAfter() > 0 }

func autoCloseMinutes(s *models.DeskSettings) int {
	return int(s.AutoCloseAfter() / time.Minute)
}
