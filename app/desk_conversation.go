package app

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// conversationList is the list shown beside a conversation, as the link that
// opened it says (list, status, filter); none means the conversation's own.
func conversationList(c echo.Context) models.InboxQuery {
	q, _ := models.ParseInboxQuery(c.QueryParams())
	if q.Section != "" {
		q.Viewer = currentUser(c)
	}
	q.Limit = deskPageSize + 1
	q.Before = nil // beside a conversation, the list starts at the newest
	return q
}

// showConversation opens a conversation (and marks it read) on its newest
// messages. With before=<message id> it shows the page of messages before
// that one: htmx ("Load earlier", clicked or scrolled to) gets just that page
// to put in place of the link; a plain link gets the whole page on it.
func (a *App) showConversation(c echo.Context) error {
	before, err := messageCursor(c)
	if err != nil {
		return err
	}
	if before > 0 && views.Req(ctxOf(c)).Fragment {
		conv, err := a.conversation(c)
		if err != nil {
			return err
		}
		page, err := models.ListMessagesFor(ctxOf(c), a.db, conv, currentUser(c), before, models.MessageLimit)
		if err != nil {
			return err
		}
		return a.render(c, http.StatusOK, views.EarlierMessages(page, conv, currentUser(c)))
	}
	return a.renderConversation(c, http.StatusOK, views.NewForm(nil, nil))
}

// listKept reports whether the page the agent clicked in (a boosted
// navigation, HX-Current-URL) already shows list, from its first page: the
// inbox or My conversations page of that list, or a conversation opened from
// it. The response then leaves the list out (hx-preserve keeps the one on
// the page, which the stream keeps live), and its query is not run.
func listKept(c echo.Context, list models.InboxQuery) bool {
	h := c.Request().Header
	if c.Request().Method != http.MethodGet || h.Get("HX-Boosted") != "true" {
		return false
	}
	cur, err := url.Parse(h.Get("HX-Current-URL"))
	if err != nil {
		return false
	}
	v := cur.Query()
	switch {
	case cur.Path == "/inbox":
		v.Set("list", models.SectionCustomers)
	case cur.Path == "/mine":
		v.Set("list", models.SectionMine)
	case strings.HasPrefix(cur.Path, "/conversations/") && strings.Count(cur.Path, "/") == 2:
	default:
		return false
	}
	shown, err := models.ParseInboxQuery(v)
	if err != nil || shown.Section == "" || shown.Before != nil || list.Before != nil {
		return false
	}
	return shown.Section == list.Section && shown.Status == list.Status && shown.Filter == list.Filter &&
		shown.Team == list.Team && shown.Sort == list.Sort
}

// messageCursor reads a thread's before=<message id> (0 when absent;
// models.ParseThreadQuery); a malformed one is a 400.
func messageCursor(c echo.Context) (int64, error) {
	q, err := models.ParseThreadQuery(c.QueryParams())
	if err != nil {
		return 0, echo.ErrBadRequest
	}
	return q.Before, nil
}

func (a *App) renderConversation(c echo.Context, status int, composer views.Form) error {
	u := currentUser(c)
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	// Opening marks the conversation read: a write, when there is anything
	// to mark (reading a conversation already read writes nothing). Its row
	// says which; once marked, the row is read again.
	row, has, err := models.OpenRowFor(ctxOf(c), a.db, u, conv.ID)
	if err != nil {
		return err
	}
	read := row.ViewerRead
	if !read {
		if err := a.write(ctxOf(c), func(tx models.Tx) error { return models.MarkRead(ctxOf(c), tx, u, conv) }); err != nil {
			return err
		}
		row = nil
	}
	list := models.ConversationList(u, conv, conversationList(c))
	kept := status == http.StatusOK && listKept(c, list)
	if status == http.StatusOK {
		regionOnly(c)
	}
	v, err := models.ConversationViewWith(ctxOf(c), a.db, u, conv, list, models.PageReads{List: !kept, Bell: deskNavWanted(c)}, row)
	if err != nil {
		return err
	}
	if before, _ := messageCursor(c); before > 0 {
		// A plain "Load earlier" link: the page before that message.
		page, err := models.ListMessagesFor(ctxOf(c), a.db, v.Conversation, currentUser(c), before, models.MessageLimit)
		if err != nil {
			return err
		}
		v.Messages, v.MoreMessages, v.Before = page.Messages, page.More, before
	}
	if status == http.StatusOK && !read {
		// Opening a conversation is a read receipt for the user's other tabs.
		a.rt.Ring()
	}
	settings, err := a.pageSettings(c)
	if err != nil {
		return err
	}
	setDeskNav(c, settings, v.BellCount)
	if v.Context != nil {
		// Where the customer's widget is open now (live memory, no query).
		c.SetRequest(c.Request().WithContext(views.WithVisitorPage(ctxOf(c), a.visitorPage(v.Conversation.CustomerID))))
	}
	// Support, media and co-browsing sessions exist for customer
	// conversations only, and for few: the row said which (has), and only
	// those are read.
	if has.Support {
		if err := a.loadSupportSession(c, v); err != nil {
			return err
		}
	}
	if has.Media && models.CanUseMedia(currentUser(c), v.Conversation) {
		if v.Media, err = models.MediaSessions(ctxOf(c), a.db, v.Conversation, mediaHistory); err != nil {
			return err
		}
		// Join and Accept only show for a running call: no query otherwise.
		if r := models.RunningMedia(v.Media); r != nil && r.IsCall() {
			if v.MediaRights, err = models.LoadMediaRights(ctxOf(c), a.db, currentUser(c), v.Conversation); err != nil {
				return err
			}
		}
	}
	if has.Cobrowse && models.CanCobrowse(currentUser(c), v.Conversation) {
		if v.Cobrowse, err = models.RunningCobrowse(ctxOf(c), a.db, v.Conversation.ID); err != nil {
			return err
		}
	}
	l, rows := listState(v.ListQuery, v.List, v.Conversation.PublicID)
	l.Kept = kept
	l.Waiting = settings.Waiting()
	if v.TeamSLA != nil {
		l.SLA = models.SLAPolicyWith(settings, v.TeamSLA)
	} else if l.SLA, err = models.SLAPolicyOf(ctxOf(c), a.db, settings); err != nil {
		return err
	}
	l.Tabs = v.Tabs   // read with the conversation's panel
	l.Teams = v.Teams // read with the conversation's panel; teamState reads them only if not
	// The team filter and roster belong to the list: a kept one shows them.
	if !kept {
		if err := a.teamState(c, &l); err != nil {
			return err
		}
	}
	l.Now = time.Now()
	composer.FileLimits = settings.FileLimits()
	liveView(c, l.StreamParams(models.ViewConversation))
	return a.render(c, status, views.ConversationPage(l, rows, v, composer))
}

// conversation finds the route's conversation for the current user; anything
// they may not see is a 404.
func (a *App) conversation(c echo.Context) (*models.Conversation, error) {
	return models.FindConversationForUser(ctxOf(c), a.db, currentUser(c), c.Param("pid"))
}

// postMessage sends a reply, an internal note or a private message to
// teammates in the conversation (kind=private, one "to" per recipient). The
// message reaches every open desk that may see it (the sender's too) through
// the stream; htmx gets the composer back, cleared, in the same mode. A
// retry with the same idempotency key (desk.js sends one per composed
// message) gets the same answer and stores nothing.
func (a *App) postMessage(c echo.Context) error {
	kind := c.FormValue("kind")
	if kind == "" {
		kind = models.MessageText
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	body, link := c.FormValue("body"), c.FormValue("link_url")
	// The "to" boxes stay ticked (hidden) when the agent switches back to
	// Reply or Note: they go with a private message only.
	var to []int64
	var toErr error
	if kind == models.MessagePrivate {
		to, toErr = recipientIDs(c)
	}
	files := formFiles(c)
	// The conversation is looked up, scoped to the agent, and locked in the
	// write itself: one read of its row per reply.
	var conv *models.Conversation
	err = a.write(ctxOf(c), func(tx models.Tx) (err error) {
		if conv, err = models.LockConversationForUser(ctxOf(c), tx, currentUser(c), c.Param("pid")); err != nil || toErr != nil {
			return cmp.Or(err, toErr)
		}
		_, err = models.PostMessageWithOpts(ctxOf(c), tx, models.Actor{User: currentUser(c)}, conv, kind, body,
			models.PostOpts{IdempotencyKey: key, LinkURL: link, To: to, Files: files, Locked: true})
		return err
	})
	if conv == nil {
		return err // not found (or not the agent's to see), or the database failed
	}
	limits, lerr := a.composerLimits(ctxOf(c))
	if lerr != nil {
		return lerr
	}
	fragment := views.Req(ctxOf(c)).Fragment
	if err != nil && !isValidation(err) {
		return err
	}
	teammates, terr := models.ConversationTeammates(ctxOf(c), a.db, conv)
	if terr != nil {
		return terr
	}
	switch {
	case err != nil:
		form := views.NewForm(map[string]string{"body": body, "kind": kind, "link_url": link, "to": views.PrivateToValue(to)}, err)
		form.FileLimits = limits
		if form.Files, err = models.PendingFiles(ctxOf(c), a.db, models.Actor{User: currentUser(c)}, conv, files); err != nil {
			return err
		}
		if fragment {
			return a.render(c, http.StatusUnprocessableEntity, views.Composer(conv, teammates, form))
		}
		return a.renderConversation(c, http.StatusUnprocessableEntity, form)
	case fragment:
		// The same mode, and for a private message the same recipients: a
		// run of private messages to one teammate stays private.
		values := map[string]string{"kind": kind}
		if kind == models.MessagePrivate {
			values["to"] = views.PrivateToValue(to)
		}
		form := views.NewForm(values, nil)
		form.FileLimits = limits
		return a.render(c, http.StatusOK, views.Composer(conv, teammates, form))
	}
	return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
}

// formFiles reads a message's "files" values: the public ids of the
// author's pending uploads (models checks each).
func formFiles(c echo.Context) []string {
	form, err := c.FormParams()
	if err != nil {
		return nil
	}
	return form["files"]
}

// recipientIDs reads a private message's "to" values (user ids); one that is
// not an id names nobody in the conversation.
func recipientIDs(c echo.Context) ([]int64, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, v := range form["to"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, models.Invalid("to", "private_to_not_in_conversation", nil)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// done answers a successful change made from the conversation page: htmx
// requests need nothing (the stream updates every open desk), plain forms
// go back where they were.
func (a *App) done(c echo.Context, conv *models.Conversation) error {
	if views.Req(ctxOf(c)).Fragment {
		return c.NoContent(http.StatusNoContent)
	}
	return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
}

// setConversationStatus closes or reopens a conversation.
func (a *App) setConversationStatus(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetStatus(ctxOf(c), tx, currentUser(c), conv, c.FormValue("status"))
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// assignConversation gives a customer conversation to a support agent;
// an empty assignee_id unassigns it.
func (a *App) assignConversation(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	var assignee *int64
	if v := c.FormValue("assignee_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return models.Invalid("assignee_id", "assignee_invalid", nil)
		}
		assignee = &id
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.Assign(ctxOf(c), tx, currentUser(c), conv, assignee)
	})
	if err != nil {
		return err
	}
	return a.done(c, conv)
}

// transferConversation hands a customer conversation to a team (to=team:<id>:
// its queue, then auto-assign) or an agent (to=agent:<id>), with an
// optional note for the receiver (an internal note). htmx gets the form
// back, cleared (or with the reason beside the field, 422); the thread and
// controls update through the stream.
func (a *App) transferConversation(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	to, note := c.FormValue("to"), c.FormValue("note")
	in := models.TransferInput{Note: note}
	kind, id, _ := strings.Cut(to, ":")
	n, _ := strconv.ParseInt(id, 10, 64)
	switch {
	case n <= 0:
	case kind == "team":
		in.TeamID = n
	case kind == "agent":
		in.AssigneeID = n
	}
	err = a.write(ctxOf(c), func(tx models.Tx) error {
		return models.Transfer(ctxOf(c), tx, currentUser(c), conv, in)
	})
	if err != nil && !isValidation(err) {
		return err
	}
	form := views.NewForm(nil, nil)
	status := http.StatusOK
	if err != nil {
		form, status = views.NewForm(map[string]string{"to": to, "note": note}, err), http.StatusUnprocessableEntity
	}
	if !views.Req(ctxOf(c)).Fragment {
		if err != nil {
			c.SetRequest(c.Request().WithContext(views.WithTransferForm(ctxOf(c), form)))
			return a.renderConversation(c, status, views.NewForm(nil, nil))
		}
		return a.redirect(c, back(c, "/conversations/"+conv.PublicID))
	}
	teams, err := models.TeamOptions(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	var agents []models.User // the form comes back cleared: the agents load when the menu is used again
	if status == http.StatusOK {
		a.toast(c, "success", tr(c, "teams.transferred"))
	} else if agents, err = models.SupportAgents(ctxOf(c), a.db); err != nil { // the refused choice stays chosen
		return err
	}
	return a.render(c, status, views.TransferForm(conv, teams, agents, form))
}

// followConversation puts a customer conversation in (or takes it out of)
// the user's My conversations.
func (a *App) followConversation(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetFollowing(ctxOf(c), tx, currentUser(c), conv, c.FormValue("follow") == "true")
	}); err != nil {
		return err
	}
	return a.done(c, conv)
}

// markConversationRead is sent by desk.js while a conversation is open and
// visible and new messages arrive.
func (a *App) markConversationRead(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.MarkRead(ctxOf(c), tx, currentUser(c), conv)
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
