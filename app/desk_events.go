package app

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// recheckEvery bounds how long a desk stream trusts what it knows about its
// viewer (session still valid, support flag, sound preference).
const recheckEvery = 15 * time.Second

// deskViewer is one open desk tab: who is looking, and at what.
type deskViewer struct {
	a     *App
	token string // session cookie, rechecked while the stream runs
	user  *models.User
	// checked is when the session and user were last loaded.
	checked time.Time
	ended   bool

	// list is the list on the page (nil: none); paged when it is not the
	// first page, where rows are only updated in place.
	list  *models.InboxQuery
	paged bool
	// conv is the public id of the open conversation, if any.
	conv string
	// item is the id of the open item page, if any (desk_events_items.go).
	item int64
	// unread is the viewer's unread conversations, kept up to date from each
	// batch's rows and reloaded at every recheck.
	unread *models.UnreadSet
	// view is the page's kind (the stream's view parameter).
	view string
	// waiting colours rows and tabs (read when the stream starts).
	waiting models.WaitingThresholds
	// sla gives rows, tabs and the open conversation their service-level
	// clock (read when the stream starts, like waiting).
	sla models.SLAPolicy
	// open is conv as loaded for signals when checked was openAt
	// (desk_typing.go).
	open   *models.Conversation
	openAt time.Time
}

// streamDeskEvents is the desk's live stream, one per open desk tab. Each
// batch of events becomes one "update" of out-of-band fragments for this
// viewer only: new messages of the open conversation, its status and
// assignee controls, rows moving in and out of the page's list, unread
// counts, the online switch, and new-conversation alerts for support agents.
func (a *App) streamDeskEvents(c echo.Context) error {
	u := currentUser(c)
	p := models.ParseStreamParams(c.QueryParams())
	v := &deskViewer{a: a, user: u, checked: time.Now(), conv: p.Conv, view: p.View, item: p.Item}
	if ck, err := c.Request().Cookie(sessionCookie); err == nil {
		v.token = ck.Value
	}
	if p.List.Section != "" {
		q := p.List
		q.Viewer, q.Limit = u, deskPageSize+1
		v.list, v.paged = &q, p.Paged
	}
	var err error
	if v.waiting, err = models.DeskWaiting(ctxOf(c), a.db); err != nil {
		return err
	}
	if err := v.loadTeams(ctxOf(c)); err != nil {
		return err
	}
	if v.sla, err = models.LoadSLAPolicy(ctxOf(c), a.db); err != nil {
		return err
	}
	return a.streamEvents(c, 0, withSignals(v.renderSignals, v.render))
}

// recheck reloads the viewer's session and user when now is set (an access
// event about the viewer) and otherwise at most every recheckEvery, so a
// signed-out, deactivated or demoted agent stops receiving what they may no
// longer see. It reports false when the session has ended.
func (v *deskViewer) recheck(ctx context.Context, now bool) (bool, error) {
	if !now && time.Since(v.checked) < recheckEvery {
		return true, nil
	}
	_, u, err := models.LookupSession(ctx, v.a.db, v.token, v.a.cfg.SessionTTL)
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrSessionExpired) || (err == nil && u.ID != v.user.ID) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v.user, v.checked = u, time.Now()
	if v.list != nil {
		v.list.Viewer = u
	}
	v.unread = nil // recount from scratch: flags or memberships may have changed
	return true, v.loadTeams(ctx)
}

// loadTeams reads the viewer's teams, which decide what My teams holds
// (InboxQuery.ViewerTeams).
func (v *deskViewer) loadTeams(ctx context.Context) error {
	if v.list == nil || v.list.Filter != models.FilterTeams {
		return nil
	}
	ids, err := models.TeamIDsOf(ctx, v.a.db, v.user.ID)
	if err != nil {
		return err
	}
	v.list.ViewerTeams = ids
	return nil
}

// render turns a batch into this viewer's update. It reads the database only
// when the batch concerns the viewer, and then once per kind of data (the
// touched conversations as rows, unread counts, the online switch, the
// assignee list), never per event.
func (v *deskViewer) render(ctx context.Context, b *live.Batch, evs []models.Event) ([][2]string, error) {
	if v.ended || len(evs) == 0 {
		return nil, nil
	}
	// An access change of the viewer (recorded with the change, so it is in
	// this batch or an earlier one whenever a later write is) is applied
	// before anything of the batch is rendered.
	access := false
	for _, e := range evs {
		if e.Kind == models.EventAccess && e.UserID != nil && *e.UserID == v.user.ID {
			access = true
		}
	}
	before := *v.user
	ok, err := v.recheck(ctx, access)
	if err != nil {
		return nil, err
	}
	if !ok || (models.CanSeeCustomerData(&before) && !models.CanSeeCustomerData(v.user)) || (before.IsAdmin() && !v.user.IsAdmin()) {
		// Signed out or deactivated: the page reloads and the sign-in page
		// takes over. Rights lost: the page on screen may show what the
		// viewer may no longer see, so it is rendered again under the new
		// rights. Either way the stream ends here.
		v.ended = true
		return [][2]string{{"reload", ""}}, nil
	}
	u := v.user

	// Which conversations of the batch may concern the viewer: customer
	// conversations only with the support flag; internal ones are checked
	// for membership by LiveRows. Read markers and follows of other users
	// are none of their business.
	var ids []int64
	seen := map[int64]bool{}
	deskStatus := false
	var myAvailability string
	roster := false
	for _, e := range evs {
		switch e.Kind {
		case models.EventDeskStatus:
			deskStatus = true
			continue
		case models.EventAgent:
			// An agent's availability or capacity: the viewer's own
			// switch, and the roster of My teams.
			d, _ := e.Data.(models.AgentEvent)
			if e.UserID != nil && *e.UserID == u.ID && d.Availability != "" {
				myAvailability = d.Availability
			}
			roster = true
			continue
		case models.EventMessage, models.EventMessageChanged, models.EventConversation, models.EventRead:
		default:
			continue
		}
		if e.UserID != nil && *e.UserID != u.ID {
			continue
		}
		if e.ConversationID == nil || seen[*e.ConversationID] {
			continue
		}
		conv := b.Conversations[*e.ConversationID]
		// Membership is LiveRows' to check (the SQL form of the rule).
		if !models.CanSeeConversation(u, conv, true) {
			continue
		}
		seen[conv.ID] = true
		ids = append(ids, conv.ID)
	}

	var out bytes.Buffer
	add := func(c templ.Component) error { return c.Render(ctx, &out) }

	if len(ids) > 0 {
		// The unread set is read before the rows, then takes each row's
		// state: the counts and the rows of one update agree even when a
		// read commits between the two reads.
		if v.unread == nil {
			var err error
			if v.unread, err = models.LoadUnreadSet(ctx, v.a.db, u); err != nil {
				return nil, err
			}
		}
		rows, err := v.a.rows.load(ctx, u, ids)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			if err := v.renderThread(ctx, b, evs, rows, add); err != nil {
				return nil, err
			}
			if err := v.renderList(ids, rows, add); err != nil {
				return nil, err
			}
			if err := v.renderTabs(evs, ids, rows, add); err != nil {
				return nil, err
			}
			if err := v.renderAlerts(evs, rows, add); err != nil {
				return nil, err
			}
			if err := v.renderSessionJoined(b, evs, rows, add); err != nil {
				return nil, err
			}
			for _, id := range ids {
				v.unread.Update(u, id, rows[id])
			}
			unread := v.unread.Summary()
			if models.CanSeeCustomerData(u) {
				if err := add(views.NavBadge("nav-unread-customers", unread.Customers, true)); err != nil {
					return nil, err
				}
			}
			if err := add(views.NavBadge("nav-unread-mine", unread.Mine, true)); err != nil {
				return nil, err
			}
			if err := add(views.TitleCount(unread.Total, true)); err != nil {
				return nil, err
			}
		}
	}
	if err := v.renderTeams(ctx, evs, myAvailability, roster, add); err != nil {
		return nil, err
	}
	if err := v.renderNotifications(ctx, evs, add); err != nil {
		return nil, err
	}
	if deskStatus {
		online, err := models.DeskOnline(ctx, v.a.db)
		if err != nil {
			return nil, err
		}
		if err := add(views.OnlineSwitch(online, true)); err != nil {
			return nil, err
		}
	}
	if err := v.renderItems(ctx, b, evs, add); err != nil {
		return nil, err
	}
	rtc, err := v.renderRTC(ctx, b, evs, add)
	if err != nil {
		return nil, err
	}
	if err := v.renderCobrowse(b, evs, add); err != nil {
		return nil, err
	}
	var result [][2]string
	if out.Len() > 0 {
		result = append(result, [2]string{"update", out.String()})
	}
	// After the update, which has put the panel in its new state.
	for _, m := range rtc {
		result = append(result, [2]string{"rtc", m})
	}
	return result, nil
}

// renderThread appends the open conversation's new messages (notes and
// status lines included: the viewer is staff who may see it; private
// messages only for their author and recipients) and replaces
// its controls when its state, assignee or the viewer's follow changed.
func (v *deskViewer) renderThread(ctx context.Context, b *live.Batch, evs []models.Event, rows map[int64]*models.InboxRow, add func(templ.Component) error) error {
	if v.conv == "" {
		return nil
	}
	var row *models.InboxRow
	for _, r := range rows {
		if r.PublicID == v.conv {
			row = r
		}
	}
	if row == nil {
		return nil
	}
	conv := &row.Conversation
	var msgs, changed []*models.Message
	var status, assigned, participants, team bool
	var follow *bool
	for _, e := range evs {
		if e.ConversationID == nil || *e.ConversationID != conv.ID {
			continue
		}
		switch e.Kind {
		case models.EventMessage:
			if e.MessageID == nil {
				continue
			}
			// A private message only for its author and recipients.
			if m := b.Messages[*e.MessageID]; m != nil && m.VisibleToUser(v.user) {
				msgs = append(msgs, m)
			}
		case models.EventMessageChanged:
			// Edited or deleted: shown again where it is (the batch holds
			// the row as it is now).
			if e.MessageID == nil {
				continue
			}
			if m := b.Messages[*e.MessageID]; m != nil && m.ConversationID == conv.ID && m.VisibleToUser(v.user) {
				changed = append(changed, m)
			}
		case models.EventConversation:
			d, _ := e.Data.(models.ConversationEvent)
			if d.Status != "" {
				status = true
			}
			if d.Assigned {
				assigned = true
			}
			if d.Transferred {
				assigned, team = true, true
			}
			if d.Participant != nil {
				participants = true
			}
			if d.Following != nil && e.UserID != nil && *e.UserID == v.user.ID {
				f := *d.Following
				follow = &f
			}
		}
	}
	if len(msgs) > 0 {
		if err := add(views.MessagesAppended(msgs, conv, v.user)); err != nil {
			return err
		}
		if err := v.a.renderSupportSession(ctx, v.user, conv, msgs, add); err != nil {
			return err
		}
	}
	if len(changed) > 0 {
		if err := add(views.MessagesRefreshed(changed, conv, v.user)); err != nil {
			return err
		}
	}
	if (len(msgs) > 0 || status) && conv.Kind == models.KindCustomer {
		// A reply stops the clock, a customer's message may start one.
		if err := add(views.ConvSLA(conv, v.sla, time.Now(), true)); err != nil {
			return err
		}
	}
	if status {
		if err := add(views.ConvStatus(conv, true)); err != nil {
			return err
		}
		if err := add(views.StatusSelect(conv, true)); err != nil {
			return err
		}
	}
	if assigned && conv.Kind == models.KindCustomer {
		if err := add(views.AssigneeControl(conv, row.AssigneeName, true)); err != nil {
			return err
		}
	}
	if team && conv.Kind == models.KindCustomer {
		if err := add(views.ConvTeam(row.TeamName, true)); err != nil {
			return err
		}
	}
	if follow != nil {
		if err := add(views.FollowControl(conv, *follow, true)); err != nil {
			return err
		}
	}
	if participants && conv.Kind == models.KindCustomer {
		p, err := models.LoadParticipants(ctx, v.a.db, conv)
		if err != nil {
			return err
		}
		withCustomer := *conv
		if conv.CustomerID != nil {
			withCustomer.Customer = &models.Customer{ID: *conv.CustomerID, Name: row.CustomerName, Email: row.CustomerEmail}
		}
		if err := add(views.ParticipantsSection(&withCustomer, p, views.Form{}, true)); err != nil {
			return err
		}
	}
	return nil
}

// renderList moves each touched conversation into, within or out of the
// page's list according to its section, tab and filter. Past the first page
// rows are only refreshed where they are.
func (v *deskViewer) renderList(ids []int64, rows map[int64]*models.InboxRow, add func(templ.Component) error) error {
	if v.list == nil {
		return nil
	}
	l := views.ListState{Query: *v.list, Current: v.conv, Waiting: v.waiting, SLA: v.sla, Now: time.Now()}
	for _, id := range ids {
		r := rows[id]
		if r == nil {
			continue
		}
		var c templ.Component
		switch {
		case !v.list.Holds(r):
			c = views.RowRemoved(r.PublicID)
		case v.paged:
			c = views.RowRefreshed(r, l)
		default:
			c = views.RowMoved(r, l)
		}
		if err := add(c); err != nil {
			return err
		}
	}
	return nil
}

// renderTabs refreshes the tabs of a conversation page (views.ConvTabs):
// a tab's colour and wait change with its conversation's messages; one
// closed or assigned away (a conversation event) goes. Tabs are not added
// live: a new assignment shows on the next page.
func (v *deskViewer) renderTabs(evs []models.Event, ids []int64, rows map[int64]*models.InboxRow, add func(templ.Component) error) error {
	if v.view != models.ViewConversation || !models.CanSeeCustomerData(v.user) {
		return nil
	}
	changed := map[int64]bool{}
	for _, e := range evs {
		if e.Kind == models.EventConversation && e.ConversationID != nil {
			changed[*e.ConversationID] = true
		}
	}
	l := views.ListState{Current: v.conv, Waiting: v.waiting, SLA: v.sla, Now: time.Now()}
	if v.list != nil {
		l.Query = *v.list
	}
	for _, id := range ids {
		r := rows[id]
		if r == nil || r.Kind != models.KindCustomer {
			continue
		}
		var c templ.Component
		switch {
		case models.IsTab(v.user, r):
			c = views.TabRefreshed(r, l)
		case changed[id]:
			c = views.TabGone(r.PublicID)
		default:
			continue
		}
		if err := add(c); err != nil {
			return err
		}
	}
	return nil
}

// renderAlerts announces new customer conversations to support agents.
func (v *deskViewer) renderAlerts(evs []models.Event, rows map[int64]*models.InboxRow, add func(templ.Component) error) error {
	if !models.CanSeeCustomerData(v.user) {
		return nil
	}
	for _, e := range evs {
		if d, ok := e.Data.(models.ConversationEvent); !ok || e.ConversationID == nil || !d.Created || d.ByUserID != 0 {
			continue // not new, or an agent's own support session
		}
		r := rows[*e.ConversationID]
		if r == nil || r.Kind != models.KindCustomer {
			continue
		}
		if err := add(views.NewConversationAlert(r, v.user.NotifySound)); err != nil {
			return err
		}
	}
	return nil
}

// renderTeams replaces the viewer's own availability switch when they
// changed it (in another tab, or coming online), and the roster of My
// teams when an agent's availability or load may have changed.
func (v *deskViewer) renderTeams(ctx context.Context, evs []models.Event, mine string, roster bool, add func(templ.Component) error) error {
	if !models.IsSupportAgent(v.user) {
		return nil
	}
	if mine != "" {
		if err := add(views.AvailabilityControl(mine, true)); err != nil {
			return err
		}
	}
	if v.list == nil || v.list.Section != models.SectionCustomers || v.list.Filter != models.FilterTeams {
		return nil
	}
	for _, e := range evs {
		if d, ok := e.Data.(models.ConversationEvent); ok && (d.Assigned || d.Status != "") {
			roster = true
		}
	}
	if !roster {
		return nil
	}
	mates, err := models.MyTeamMates(ctx, v.a.db, v.user)
	if err != nil {
		return err
	}
	if mates == nil {
		mates = []models.TeamMate{}
	}
	return add(views.TeamRoster(mates, true))
}
