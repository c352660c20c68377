package views

import "github.com/parleydesk/parley/models"

// The menus that offer a desk's agents (a conversation's assignee,
// transfer and invite menus, an item's assignee menu) hold their current
// choice only, and load the agents when first used: static/app.js
// (select[data-options]) asks MenuURL or ItemMenuURL, app/desk_menus.go
// answers with the options. A page, and every
// live update of the control, then costs the same in a desk of 2,000 agents
// as in one of 5.
const (
	MenuAssignee = "assignee"
	MenuTransfer = "transfer"
	MenuInvite   = "invite"
)

// MenuURL is where conversation c's menu loads its options.
func MenuURL(c *models.Conversation, menu string) string {
	return "/conversations/" + c.PublicID + "/menus/" + menu
}

// ItemMenuURL is where item it's assignee menu loads its options.
func ItemMenuURL(it *models.Item) string {
	return ItemURL(it) + "/menus/assignee"
}
