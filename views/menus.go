package views

import (
	"net/url"

	"github.com/parleydesk/parley/models"
)

// The menus that offer a desk's agents (a conversation's assignee,
// transfer and invite menus, an item's assignee menu, the assignee filters
// of the item lists and of search, the new-item form's assignee) hold their
// current choice only, and load the agents when first used: static/app.js
// (select[data-options]) asks MenuURL, ItemMenuURL or PeopleMenuURL (with
// the menu's value as "selected"), app/desk_menus.go answers with the
// options. A page, and every live update of the control, then costs the
// same in a desk of 2,000 agents as in one of 5.
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

// The styles of a menu of people (PeopleOptions): what it offers before
// the people.
const (
	PeopleFilter = "filter" // an item list's filter: Anyone
	PeopleForm   = "form"   // the new-item form: Nobody
	PeopleSearch = "search" // search's filter: Any, Me, Nobody
)

// PeopleMenuURL is where a menu of style offering who items of kind may be
// assigned to loads its options.
func PeopleMenuURL(kind, style string) string {
	return "/desk/menus/people?" + url.Values{"kind": {kind}, "style": {style}}.Encode()
}

// teammateFilterFrom is how many teammates the new teammate chat lists
// before it offers a box that narrows the list as one types (desk.js,
// data-filter).
const teammateFilterFrom = 8
