package app

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// widgetEvents is a visitor's live stream for one view: the home view
// (conv empty) or one conversation. It carries only what that customer may
// see: their own conversations' messages and customer-facing status lines,
// never an internal conversation or a note, plus the desk's online switch
// and settings. Besides "update" (out-of-band HTML) it sends "notify" with
// the ids of new agent messages, which the frame counts for the launcher's
// unread badge.
func (a *App) widgetEvents(c echo.Context) error {
	v := currentVisitor(c)
	var conv *models.Conversation
	if pid := c.QueryParam("conv"); pid != "" {
		var err error
		if conv, err = models.FindConversationForVisitor(ctxOf(c), a.db, v, pid); err != nil {
			return err
		}
	}
	w := &widgetStream{a: a, visitor: v, token: visitorToken(c), conv: conv}
	open, gone := a.framePresence(c, v.CustomerID)
	return a.hub.Serve(c.Response(), c.Request(), live.Stream{
		CustomerID: v.CustomerID, Render: withSignals(w.renderSignals, w.render), Log: reqLog(c),
		OnOpen: open, OnClose: gone,
	})
}

type widgetStream struct {
	a       *App
	visitor *models.Visitor
	token   string
	conv    *models.Conversation // nil on the home view
	// convs is the home view's list as last sent (nil: not read yet): a
	// batch merges its conversations into it (models.MergeVisitorConversations)
	// instead of reading the list again for every message.
	convs []models.Conversation
}

// owns reports whether the stream's visitor may see conv: their customer's
// and, for a chat link's visitor, only the link's conversation.
func (w *widgetStream) owns(conv *models.Conversation) bool {
	return w.visitor.Sees(conv)
}

func (w *widgetStream) render(ctx context.Context, b *live.Batch, evs []models.Event) ([][2]string, error) {
	var (
		appendMsgs []*models.Message
		changed    []*models.Message
		notify     []string
		other      string
		state      *models.Conversation
		list       bool
		listed     []*models.Conversation // what changed in the home view's list
		chrome     bool
		cobrowse   []templ.Component
		articles   bool
	)
	for _, e := range evs {
		switch e.Kind {
		case models.EventMessage:
			if e.MessageID == nil || e.ConversationID == nil {
				continue
			}
			m, cv := b.Messages[*e.MessageID], b.Conversations[*e.ConversationID]
			if m == nil || !w.owns(cv) || m.ConversationID != cv.ID || !m.VisibleToCustomer() {
				continue
			}
			if m.AuthorType == models.AuthorAgent && m.Kind == models.MessageText {
				notify = append(notify, "m-"+strconv.FormatInt(m.ID, 10))
			}
			switch {
			case w.conv == nil:
				list, listed = true, appendConv(listed, cv)
			case cv.ID == w.conv.ID:
				appendMsgs = append(appendMsgs, m)
			case m.AuthorType == models.AuthorAgent:
				other = cv.PublicID
			}
		case models.EventMessageChanged:
			// An agent edited or deleted a message: shown again in place
			// (never a note: VisibleToCustomer), and the list's preview.
			if e.MessageID == nil || e.ConversationID == nil {
				continue
			}
			m, cv := b.Messages[*e.MessageID], b.Conversations[*e.ConversationID]
			if m == nil || !w.owns(cv) || m.ConversationID != cv.ID || !m.VisibleToCustomer() {
				continue
			}
			switch {
			case w.conv == nil:
				list, listed = true, appendConv(listed, cv)
			case cv.ID == w.conv.ID:
				changed = append(changed, m)
			}
		case models.EventConversation:
			if e.ConversationID == nil {
				continue
			}
			cv := b.Conversations[*e.ConversationID]
			if !w.owns(cv) {
				continue
			}
			if w.conv == nil {
				list, listed = true, appendConv(listed, cv)
			} else if cv.ID == w.conv.ID {
				state = cv
			}
		case models.EventDeskStatus, models.EventSettings:
			chrome = true
		case models.EventCobrowse:
			// Only the open conversation's: its consent prompt or bar, and
			// the agent's commands for the loader (chunks are the desk's).
			if e.ConversationID == nil || w.conv == nil || *e.ConversationID != w.conv.ID || !w.owns(b.Conversations[*e.ConversationID]) {
				continue
			}
			d, _ := e.Data.(models.CobrowseEvent)
			switch {
			case d.State != "":
				cobrowse = append(cobrowse, views.WidgetCobrowse(w.conv.PublicID, cobrowseFromEvent(d), true))
			case d.Command != "":
				cobrowse = append(cobrowse, views.WidgetCobrowseCommand(d, e.ID))
			}
		case models.EventArticle:
			articles = w.conv != nil
		}
	}
	if articles {
		// An article was edited, unpublished or deleted: the open thread's
		// article cards are shown again as they are now.
		ms, err := models.ArticleMessages(ctx, w.a.db, w.conv)
		if err != nil {
			return nil, err
		}
		changed = append(changed, ms...)
	}
	var parts []templ.Component
	var settings *models.DeskSettings
	if len(appendMsgs) > 0 || len(changed) > 0 || chrome {
		var err error
		if settings, err = w.a.batchSettings(ctx, b); err != nil {
			return nil, err
		}
	}
	if len(appendMsgs) > 0 {
		parts = append(parts, views.WidgetAppend(appendMsgs, settings))
	}
	if len(changed) > 0 {
		parts = append(parts, views.WidgetMessagesRefreshed(changed, settings))
	}
	if state != nil {
		parts = append(parts, views.WidgetConvState(state, true))
	}
	if other != "" {
		parts = append(parts, views.WidgetOther(other, true))
	}
	parts = append(parts, cobrowse...)
	if list {
		if w.convs == nil {
			// Read once; it holds what this batch changed already.
			convs, err := models.VisitorConversations(ctx, w.a.db, w.visitor, conversationListLimit)
			if err != nil {
				return nil, err
			}
			w.convs = convs
		} else {
			w.convs = models.MergeVisitorConversations(w.convs, listed, conversationListLimit)
		}
		if len(w.convs) > 0 {
			parts = append(parts, views.WidgetConversationList(w.convs, true))
		}
	}
	if chrome {
		parts = append(parts, views.WidgetChrome(settings, themeURL(settings)))
		if w.conv != nil {
			// The email prompt depends on the online switch and on what the
			// visitor has told us since the stream began.
			v, err := models.FindVisitor(ctx, w.a.db, w.token)
			if err != nil {
				return nil, err
			}
			parts = append(parts, views.WidgetAskEmail(v.AskEmail(settings), "", views.Form{}, true))
		}
	}
	rtcParts, rtc, err := w.renderRTC(ctx, b, evs)
	if err != nil {
		return nil, err
	}
	parts = append(parts, rtcParts...)
	var out [][2]string
	if len(notify) > 0 {
		// Before "update", which carries the resume position as the batch's
		// last event.
		out = append(out, [2]string{"notify", strings.Join(notify, " ")})
	}
	up, err := update(ctx, parts)
	if err != nil {
		return nil, err
	}
	out = append(out, up...)
	// After the update, which has put the bar in its new state.
	for _, m := range rtc {
		out = append(out, [2]string{"rtc", m})
	}
	return out, nil
}

// batchSettings loads the desk settings once per live batch for all the
// widget streams it is dispatched to (they share the *live.Batch).
func (a *App) batchSettings(ctx context.Context, b *live.Batch) (*models.DeskSettings, error) {
	a.settingsMemo.Lock()
	defer a.settingsMemo.Unlock()
	if a.settingsMemo.batch == b && a.settingsMemo.s != nil {
		return a.settingsMemo.s, nil
	}
	s, err := models.GetSettings(ctx, a.db)
	if err != nil {
		return nil, err
	}
	a.settingsMemo.batch, a.settingsMemo.s = b, s
	return s, nil
}

// settingsMemo holds the settings loaded for the latest batch.
type settingsMemo struct {
	sync.Mutex
	batch *live.Batch
	s     *models.DeskSettings
}

// appendConv adds cv to cs once.
func appendConv(cs []*models.Conversation, cv *models.Conversation) []*models.Conversation {
	if slices.ContainsFunc(cs, func(c *models.Conversation) bool { return c.ID == cv.ID }) {
		return cs
	}
	return append(cs, cv)
}
