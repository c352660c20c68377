package app

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Tickets and tasks: their lists, pages, the new-item form (filled in from a
// conversation), in-place edits, following, and linking conversations.

// ctxItemKind is where itemKind leaves the route's kind.
const ctxItemKind = "item_kind"

// itemKind tells the item handlers which kind their route serves.
func itemKind(kind string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxItemKind, kind)
			return next(c)
		}
	}
}

func kindOf(c echo.Context) string { s, _ := c.Get(ctxItemKind).(string); return s }

// itemPageSize is how many items a list page shows.
const itemPageSize = 50

// itemListQuery reads a list's filters, sort and page from the query string
// (models.ParseItemQuery). Unknown values fall back to "any"; a cursor not
// made by a paging link is a bad request.
func itemListQuery(c echo.Context) (models.ItemQuery, error) {
	q, err := models.ParseItemQuery(kindOf(c), c.QueryParams())
	q.Viewer, q.Limit = currentUser(c), itemPageSize
	if q.Today.IsZero() {
		q.Today = time.Now().UTC()
	}
	if err != nil {
		return q, echo.ErrBadRequest
	}
	return q, nil
}

// listItems is the Tickets or Tasks list.
func (a *App) listItems(c echo.Context) error {
	q, err := itemListQuery(c)
	if err != nil {
		return err
	}
	page, err := models.ListItems(ctxOf(c), a.db, q)
	if err != nil {
		return err
	}
	teams, err := models.TeamOptions(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	chosen, err := a.chosenPerson(c, strconv.FormatInt(q.AssigneeID, 10))
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.ItemsPage(views.ItemList{Query: q, Page: page, Assignees: chosen, Teams: teams}))
}

// itemNumber reads the route's item number; anything else is a 404.
func itemNumber(c echo.Context) (int64, error) {
	n, err := strconv.ParseInt(c.Param("number"), 10, 64)
	if err != nil || n <= 0 {
		return 0, echo.ErrNotFound
	}
	return n, nil
}

// item finds the route's item for the current user; anything they may not
// see is a 404.
func (a *App) item(c echo.Context) (*models.Item, error) {
	n, err := itemNumber(c)
	if err != nil {
		return nil, err
	}
	return models.FindItem(ctxOf(c), a.db, currentUser(c), kindOf(c), n)
}

// showItem is an item's page.
func (a *App) showItem(c echo.Context) error {
	return a.renderItem(c, http.StatusOK, views.NewForm(nil, nil))
}

func (a *App) renderItem(c echo.Context, status int, f views.Form) error {
	n, err := itemNumber(c)
	if err != nil {
		return err
	}
	v, err := models.OpenItem(ctxOf(c), a.db, currentUser(c), kindOf(c), n)
	if err != nil {
		return err
	}
	liveView(c, models.StreamParams{View: models.ViewItem, Item: v.Item.ID})
	return a.render(c, status, views.ItemPage(v, f))
}

// newItem shows the new-item form, filled in from the conversation it is
// made from (?conversation=<public id>), if any.
func (a *App) newItem(c echo.Context) error {
	kind := kindOf(c)
	if !models.CanSeeItems(currentUser(c), kind) {
		return echo.ErrNotFound
	}
	values := map[string]string{"priority": models.PriorityNormal}
	var conv *models.Conversation
	if pid := c.QueryParam("conversation"); pid != "" {
		var err error
		if conv, err = models.FindConversationForUser(ctxOf(c), a.db, currentUser(c), pid); err != nil {
			return err
		}
		d, err := models.DraftFromConversation(ctxOf(c), a.db, conv)
		if err != nil {
			return err
		}
		values["title"], values["description"], values["assignee"], values["team"] = d.Title, d.Description, d.Assignee, d.Team
	}
	return a.renderNewItem(c, http.StatusOK, conv, views.NewForm(values, nil))
}

func (a *App) renderNewItem(c echo.Context, status int, conv *models.Conversation, f views.Form) error {
	teams, err := models.TeamOptions(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	chosen, err := a.chosenPerson(c, f.Get("assignee"))
	if err != nil {
		return err
	}
	return a.render(c, status, views.NewItemPage(kindOf(c), conv, f, chosen, teams))
}

// createItem saves the new-item form; from a conversation, the agent goes
// back to it, now linked; otherwise to the new item.
func (a *App) createItem(c echo.Context) error {
	kind := kindOf(c)
	in := models.ItemInput{
		Kind: kind, Title: c.FormValue("title"), Description: c.FormValue("description"),
		Priority: c.FormValue("priority"), Assignee: c.FormValue("assignee"), Team: c.FormValue("team"), Due: c.FormValue("due"),
	}
	if pid := c.FormValue("conversation"); pid != "" {
		conv, err := models.FindConversationForUser(ctxOf(c), a.db, currentUser(c), pid)
		if err != nil {
			return err
		}
		in.Conversation = conv
	}
	var item *models.Item
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		var err error
		item, err = models.CreateItem(ctxOf(c), tx, currentUser(c), in)
		return err
	})
	if isValidation(err) {
		values := map[string]string{"title": in.Title, "description": in.Description, "priority": in.Priority,
			"assignee": in.Assignee, "team": in.Team, "due": in.Due}
		return a.renderNewItem(c, http.StatusUnprocessableEntity, in.Conversation, views.NewForm(values, err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "items.created", map[string]any{"Ref": item.Ref()}))
	if in.Conversation != nil {
		return a.redirect(c, "/conversations/"+in.Conversation.PublicID)
	}
	return a.redirect(c, views.ItemURL(item))
}

// updateItem changes one field in place (the details panel beside a
// conversation, or the item page). htmx gets the details back; a 422 shows
// the message beside the field.
func (a *App) updateItem(c echo.Context) error {
	item, err := a.item(c)
	if err != nil {
		return err
	}
	field, value := c.FormValue("field"), c.FormValue("value")
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.UpdateItem(ctxOf(c), tx, currentUser(c), item, field, value)
	})
	if err != nil && !isValidation(err) {
		return err
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	f := views.NewForm(map[string]string{field: value}, err)
	if key, ok := panelKey(c, "item-details", item); ok {
		panel, perr := models.ItemPanelFor(ctxOf(c), a.db, currentUser(c), item.Kind, item.Number)
		if perr != nil {
			return perr
		}
		panel.Key = key
		return a.render(c, status, views.ItemDetails(panel, f, false))
	}
	if err != nil {
		return a.renderItem(c, status, f)
	}
	return a.redirect(c, back(c, views.ItemURL(item)))
}

// panelKey reads which copy of item's element an htmx request targets: the
// item page's (id, key "") or one in a conversation's panel of several items
// (id + models.ItemPanelKey). ok is false for a request that targets
// neither, so the answer is never rendered under another item's ids.
func panelKey(c echo.Context, id string, item *models.Item) (string, bool) {
	if !views.Req(ctxOf(c)).Fragment {
		return "", false
	}
	switch c.Request().Header.Get("HX-Target") {
	case id:
		return "", true
	case id + models.ItemPanelKey(item):
		return models.ItemPanelKey(item), true
	}
	return "", false
}

// followItem toggles following an item (its conversations then show in My
// conversations).
func (a *App) followItem(c echo.Context) error {
	item, err := a.item(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetItemFollowing(ctxOf(c), tx, currentUser(c), item, c.FormValue("follow") == "true")
	})
	if err != nil {
		return err
	}
	if views.Req(ctxOf(c)).Fragment {
		panel, err := models.ItemPanelFor(ctxOf(c), a.db, currentUser(c), item.Kind, item.Number)
		if err != nil {
			return err
		}
		key, _ := panelKey(c, "item-follow", item)
		return a.render(c, http.StatusOK, views.ItemFollowIn(panel.Item, panel.Following, key))
	}
	return a.redirect(c, back(c, views.ItemURL(item)))
}

// searchItems answers the link search beside a conversation (search as you
// type): items by reference or title, each with a button that links it.
func (a *App) searchItems(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	items, err := models.SearchItems(ctxOf(c), a.db, currentUser(c), c.QueryParam("item"), 8)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.ItemSearchResults(conv, strings.TrimSpace(c.QueryParam("item")), items))
}

// linkConversationItem links the conversation to an existing item, named
// by its reference (T-1042); its other items stay linked.
func (a *App) linkConversationItem(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	item, err := a.itemByRef(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.LinkConversation(ctxOf(c), tx, currentUser(c), item, conv)
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// itemByRef finds the item named by the form's reference (T-1042) for the
// viewer: an unknown, malformed or hidden one is a 422 on the item field.
func (a *App) itemByRef(c echo.Context) (*models.Item, error) {
	u := currentUser(c)
	kind, n, ok := models.ParseItemRefFor(u, c.FormValue("item"))
	if !ok {
		return nil, models.Invalid("item", "item_unknown", nil)
	}
	item, err := models.FindItem(ctxOf(c), a.db, u, kind, n)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.Invalid("item", "item_unknown", nil)
	}
	return item, err
}

// unlinkConversationItem detaches the conversation from one of its items,
// named by its reference.
func (a *App) unlinkConversationItem(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	item, err := a.itemByRef(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.UnlinkConversation(ctxOf(c), tx, currentUser(c), conv, item)
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// commentOnItem adds the viewer's comment to the item's history (staff
// only, like the page; "@Name" mentions notify). An empty or oversized
// comment is a 422 with the page and the message beside the field.
func (a *App) commentOnItem(c echo.Context) error {
	item, err := a.item(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.CommentOnItem(ctxOf(c), tx, currentUser(c), item, body)
		return err
	})
	if isValidation(err) {
		return a.renderItem(c, http.StatusUnprocessableEntity, views.NewForm(map[string]string{"body": body}, err))
	}
	if err != nil {
		return err
	}
	return a.redirect(c, views.ItemURL(item)+"#item-activity")
}
