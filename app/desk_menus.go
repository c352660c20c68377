package app

import (
	"errors"
	"net/http"
	"strconv"

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
		return a.render(c, http.StatusOK, views.TransferOptions(teams, nonNil(agents), c.QueryParam("selected")))
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

// showPeopleMenu answers a menu of people when it is first used
// (views.PeopleMenuURL): who items of kind may be assigned to, after what
// the menu's style offers first, the person with id selected chosen. For
// staff who may see items of kind (the lists, the form and search show the
// menu to them): 404 for anyone else, or an unknown kind or style.
func (a *App) showPeopleMenu(c echo.Context) error {
	kind, style := c.QueryParam("kind"), c.QueryParam("style")
	if (kind != models.ItemTicket && kind != models.ItemTask) || !models.CanSeeItems(currentUser(c), kind) {
		return echo.ErrNotFound
	}
	switch style {
	case views.PeopleFilter, views.PeopleForm, views.PeopleSearch:
	default:
		return echo.ErrNotFound
	}
	us, err := models.ItemAssignees(ctxOf(c), a.db, kind)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.PeopleOptions(style, us, c.QueryParam("selected")))
}

// chosenPerson is the person a menu of people has chosen (value: a user
// id), for the page to show before the menu loads the others: none for
// another value or an unknown id.
func (a *App) chosenPerson(c echo.Context, value string) ([]models.User, error) {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id <= 0 {
		return nil, nil
	}
	u, err := models.FindUser(ctxOf(c), a.db, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []models.User{*u}, nil
}
