package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showMenu answers a conversation's menu of agents when it is first used
// (views.MenuURL): its options, the current choice chosen. Each menu is
// offered to whom the conversation page shows it, and a menu asked by
// anyone else, or of a conversation they may not see, is a 404: the
// assignee menu to everyone who sees the customer conversation, transfer to
// its support agents, invite to those who may join it.
func (a *App) showMenu(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	if conv.Kind != models.KindCustomer {
		return echo.ErrNotFound
	}
	switch c.Param("menu") {
	case views.MenuAssignee:
		agents, err := models.SupportAgents(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		name := ""
		if conv.Assignee != nil {
			name = conv.Assignee.Name
		}
		return a.render(c, http.StatusOK, views.AssigneeOptions(conv, name, nonNil(agents)))
	case views.MenuTransfer:
		if !models.IsSupportAgent(u) {
			return echo.ErrNotFound
		}
		teams, err := models.TeamOptions(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		agents, err := models.SupportAgents(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		return a.render(c, http.StatusOK, views.TransferOptions(teams, nonNil(agents), ""))
	case views.MenuInvite:
		if !models.CanJoinConversation(u, conv) {
			return echo.ErrNotFound
		}
		invitable, err := models.InvitableAgents(ctxOf(c), a.db, conv)
		if err != nil {
			return err
		}
		return a.render(c, http.StatusOK, views.InviteOptions(invitable))
	}
	return echo.ErrNotFound
}

// nonNil is us, or an empty list for none: a menu whose agents have loaded
// shows them even when there are none.
func nonNil(us []models.User) []models.User {
	if us == nil {
		return []models.User{}
	}
	return us
}

// showItemAssigneeMenu answers an item's assignee menu when it is first used
// (views.ItemMenuURL), for whoever may see the item (its page and panels
// show the menu): 404 for anyone else.
func (a *App) showItemAssigneeMenu(c echo.Context) error {
	n, err := itemNumber(c)
	if err != nil {
		return err
	}
	it, err := models.FindItem(ctxOf(c), a.db, currentUser(c), kindOf(c), n)
	if err != nil {
		return err
	}
	us, err := models.ItemAssignees(ctxOf(c), a.db, it.Kind)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.ItemAssigneeOptions(it, nonNil(us)))
}
