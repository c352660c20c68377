package views

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
)

// Desk is what the staff shell needs for the desk's navigation and its live
// stream. The app puts it in the context of every full staff page.
type Desk struct {
	Nav       models.NavState
	NavLoaded bool
	// Cursor is the stream's resume position, taken before the page read
	// its data, so the stream replays whatever changed after.
	Cursor uint64
	// Stream is what the live stream keeps live (the page's kind, list,
	// open conversation or item); zero for pages that only need the
	// navigation kept live.
	Stream models.StreamParams
	// Region: the request is a click in a desk page that already shows the
	// shell (sidebar, navigation, toasts), so the desk's layout renders
	// only what the click changes: the title, <main>'s content and the
	// stream, which follows the page's new view. The navigation's counts
	// are then not read (the stream keeps the ones on screen current).
	Region bool
}

type deskKey struct{}

// WithDesk returns ctx carrying d.
func WithDesk(ctx context.Context, d *Desk) context.Context {
	return context.WithValue(ctx, deskKey{}, d)
}

// DeskOf returns the desk state carried by ctx, or nil.
func DeskOf(ctx context.Context) *Desk {
	d, _ := ctx.Value(deskKey{}).(*Desk)
	return d
}

// streamURL is the sse-connect address of the page's desk stream: its
// parameters and the resume position.
func (d *Desk) streamURL() string {
	q := d.Stream.Values()
	q.Set("since", strconv.FormatUint(d.Cursor, 10))
	return "/desk/events?" + q.Encode()
}

// pageTitle is the browser tab's title. desk.js puts the number of
// conversations waiting to be read in front once the counts arrive, e.g.
// "(3) Inbox · Parley".
func pageTitle(ctx context.Context, title string) string {
	return title + " · Parley"
}

// ListState is which list a desk page shows (section, tab, filter, page) and
// which conversation is open beside it.
type ListState struct {
	Query   models.InboxQuery
	Current string              // public id of the open conversation, if any
	Older   *models.InboxCursor // cursor of the next page, if there is one
	// Waiting colours the rows' waits as of Now (the handler's clock).
	Waiting models.WaitingThresholds
	// SLA gives waiting rows their service-level clock (sla.templ).
	SLA models.SLAPolicy
	Now time.Time
	// Tabs are the viewer's conversations shown as tabs above an open
	// conversation (models.ConversationView Tabs).
	Tabs []models.InboxRow
	// Teams are the team filter's choices (customers section); Roster the
	// agents of the viewer's teams (shown in My teams).
	Teams  []models.TeamOption
	Roster []models.TeamMate
	// Kept: the page the agent clicked in already shows this list, and
	// keeps it (listPane renders an hx-preserve placeholder).
	Kept bool
}

// Customers reports whether the list is the customers section.
func (l ListState) Customers() bool { return l.Query.Section == models.SectionCustomers }

// URL is the list page with the given tab and filter (and the list's sort).
func (l ListState) URL(status, filter string) string {
	return listURL(models.InboxQuery{Section: l.Query.Section, Status: status, Filter: filter, Sort: l.Query.Sort, Team: l.Query.Team})
}

// SortURL is the list's first page in another order.
func (l ListState) SortURL(sort string) string {
	return listURL(models.InboxQuery{Section: l.Query.Section, Status: l.Query.Status, Filter: l.Query.Filter, Sort: sort, Team: l.Query.Team})
}

// OlderURL is the next page of the list.
func (l ListState) OlderURL() string {
	q := l.Query
	q.Before = l.Older
	return listURL(q)
}

// listURL is q's list page: its path names the section.
func listURL(q models.InboxQuery) string {
	v := q.Values()
	v.Del("list")
	path := "/mine"
	if q.Section == models.SectionCustomers {
		path = "/inbox"
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// ConvURL opens a conversation beside this list.
func (l ListState) ConvURL(pid string) string {
	q := l.Query
	q.Before = nil // beside a conversation, the list starts at the newest
	return "/conversations/" + pid + "?" + q.Values().Encode()
}

// StreamParams describes the list (and open conversation) to the stream, so
// it can keep exactly this list live.
func (l ListState) StreamParams(view string) models.StreamParams {
	return models.StreamParams{View: view, List: l.Query, Paged: l.Query.Before != nil, Conv: l.Current}
}

// rowSortKey orders rows like the list query (newest activity first); the
// browser re-sorts rows that arrive live by it.
func rowSortKey(r *models.InboxRow, sort string) string {
	if sort == models.SortWaiting {
		// Descending like the other: waiting rows first, the longest wait
		// (smallest time) highest, then by id ascending.
		const top = 1<<62 - 1
		if r.WaitingSince != nil {
			return fmt.Sprintf("1-%020d-%020d", top-r.WaitingSince.UnixMicro(), top-r.ID)
		}
		return fmt.Sprintf("0-%020d-%020d", 0, top-r.ID)
	}
	return fmt.Sprintf("%020d-%020d", r.LastMessageAt.UnixMicro(), r.ID)
}

// waitingLevel is the colour of r's wait (none unless an open customer
// conversation is waiting).
func waitingLevel(r *models.InboxRow, l ListState) string {
	if r.Kind != models.KindCustomer || r.Status != models.StatusOpen {
		return models.LevelNone
	}
	return l.Waiting.Level(r.WaitingSince, l.Now)
}

// waitingAttrs are what desk.js recolours a row or tab by as time passes:
// since when, and the thresholds in seconds.
func waitingAttrs(r *models.InboxRow, l ListState) templ.Attributes {
	if waitingLevel(r, l) == models.LevelNone {
		return nil
	}
	return templ.Attributes{
		"data-waiting-since": isoTime(*r.WaitingSince),
		"data-waiting-amber": strconv.FormatInt(int64(l.Waiting.Amber/time.Second), 10),
		"data-waiting-red":   strconv.FormatInt(int64(l.Waiting.Red/time.Second), 10),
	}
}

func rowTitle(ctx context.Context, r *models.InboxRow) string {
	if t := r.Title(); t != "" {
		return t
	}
	if r.Kind == models.KindInternal {
		return T(ctx, "desk.just_you")
	}
	return visitorName(ctx, r.CustomerID)
}

func visitorName(ctx context.Context, customerID *int64) string {
	var id int64
	if customerID != nil {
		id = *customerID
	}
	return T(ctx, "desk.visitor", map[string]any{"ID": id})
}

// customerName is what the desk calls a conversation's customer.
func customerName(ctx context.Context, c *models.Customer) string {
	if c == nil {
		return ""
	}
	if c.Name != "" {
		return c.Name
	}
	if c.Email != "" {
		return c.Email
	}
	return visitorName(ctx, &c.ID)
}

// convTitle is the heading of a conversation page.
func convTitle(ctx context.Context, v *models.ConversationView) string {
	if v.Conversation.Kind == models.KindInternal {
		return rowTitle(ctx, v.Row)
	}
	return customerName(ctx, v.Conversation.Customer)
}

// isoTime is the machine-readable form of t for <time datetime>.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// timeText is the server's rendering of a <time>; live.js replaces it with
// the viewer's local time.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// timeFormat picks how much of a message time to show: today's messages
// need only the hour.
func timeFormat(t time.Time) string {
	if time.Since(t) < 18*time.Hour {
		return "time"
	}
	return "datetime"
}

// ago is a short duration since t ("5 min", "3 h", "2 d"); desk.js keeps it
// current in the page.
func ago(ctx context.Context, t time.Time) string {
	// A time a little ahead of this clock is "now", not minutes from now.
	return shortDuration(ctx, max(time.Since(t), 0))
}

// systemText is a status line of the thread in the viewer's language.
func systemText(ctx context.Context, m *models.Message) string {
	by, _ := m.EventData["by"].(string)
	to, _ := m.EventData["to"].(string)
	data := map[string]any{"By": by, "To": to}
	switch m.Event {
	case models.SysClosed:
		return T(ctx, "desk.system_closed", data)
	case models.SysReopened:
		return T(ctx, "desk.system_reopened", data)
	case models.SysReopenedByCustomer:
		return T(ctx, "desk.system_reopened_by_customer", data)
	case models.SysAssigned:
		return T(ctx, "desk.system_assigned", data)
	case models.SysUnassigned:
		return T(ctx, "desk.system_unassigned", data)
	case models.SysAutoClosed:
		return autoClosedLine(ctx, m, false)
	case models.SysJoined, models.SysLeft, models.SysJoinedHidden, models.SysLeftHidden:
		return participantLine(ctx, m, false)
	case models.SysFileRefused:
		name, _ := m.EventData["name"].(string)
		reason, _ := m.EventData["reason"].(string)
		return T(ctx, "files.system_refused", map[string]any{"By": by, "Name": name, "Signature": reason})
	case models.SysURLOpened:
		if by == "" {
			by = T(ctx, "desk.customer")
		}
		u, _ := m.EventData["url"].(string)
		return T(ctx, "pushurl.system_opened", map[string]any{"By": by, "URL": u})
	}
	if s, ok := itemSystemText(ctx, m); ok {
		return s
	}
	if s, ok := sessionSystemText(ctx, m); ok {
		return s
	}
	if s, ok := rtcSystemText(ctx, m, false, ""); ok {
		return s
	}
	if s, ok := cobrowseSystemText(ctx, m); ok {
		return s
	}
	if s, ok := teamLineText(ctx, m); ok {
		return s
	}
	return m.Event
}

// authorName is who wrote m, as staff see it.
func authorName(ctx context.Context, m *models.Message) string {
	switch {
	case m.AuthorUser != nil:
		return m.AuthorUser.Name
	case m.AuthorCustomer != nil:
		return customerName(ctx, m.AuthorCustomer)
	case m.AuthorType == models.AuthorCustomer:
		return T(ctx, "desk.customer")
	}
	return T(ctx, "desk.former_agent")
}

// ownMessage reports whether the viewer wrote m.
func ownMessage(m *models.Message, me *models.User) bool {
	return me != nil && m.AuthorUserID != nil && *m.AuthorUserID == me.ID
}

// outgoing puts a message on the right of the thread: the team's replies in
// a customer conversation, the viewer's own in an internal one.
func outgoing(m *models.Message, conv *models.Conversation, me *models.User) bool {
	if conv.Kind == models.KindInternal {
		return ownMessage(m, me)
	}
	return m.AuthorType == models.AuthorAgent
}

// oob marks a fragment of a live update as an out-of-band swap.
func oob(on bool, how string) templ.Attributes {
	if !on {
		return nil
	}
	return templ.Attributes{"hx-swap-oob": how}
}

func selectedIf(cond bool) templ.Attributes {
	if cond {
		return templ.Attributes{"selected": true}
	}
	return nil
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }

// sessionBrowser is the "browser on OS" line of the session details.
func sessionBrowser(ctx context.Context, c *models.Conversation) string {
	switch {
	case c.Browser != "" && c.OS != "":
		return T(ctx, "desk.browser_on_os", map[string]any{"Browser": c.Browser, "OS": c.OS})
	case c.Browser != "":
		return c.Browser
	}
	return c.OS
}

// countText shows an unread count, "99+" once it reaches models.UnreadCap
// (where counting stops).
func countText(n int) string {
	if n >= models.UnreadCap {
		return strconv.Itoa(models.UnreadCap-1) + "+"
	}
	return strconv.Itoa(n)
}

// currentIf marks the selected tab, filter or row for assistive technology
// (and the CSS that highlights it).
func currentIf(cond bool) templ.Attributes {
	if cond {
		return templ.Attributes{"aria-current": "true"}
	}
	return nil
}

func listTitle(ctx context.Context, l ListState) string {
	if l.Customers() {
		return T(ctx, "desk.nav_inbox")
	}
	return T(ctx, "desk.nav_mine")
}

// emptyTitle and emptyText explain an empty list, per tab and filter.
func emptyTitle(ctx context.Context, l ListState) string {
	if l.Query.Status == models.StatusClosed {
		return T(ctx, "desk.empty_closed")
	}
	if l.Customers() && l.Query.Filter == models.FilterUnassigned {
		return T(ctx, "desk.empty_unassigned")
	}
	if l.Customers() && l.Query.Filter == models.FilterUnanswered {
		return T(ctx, "waiting.empty_unanswered")
	}
	return T(ctx, "desk.empty_open")
}

func emptyText(ctx context.Context, l ListState) string {
	switch {
	case l.Query.Before != nil:
		return T(ctx, "desk.empty_older")
	case l.Customers():
		return T(ctx, "desk.empty_customers_text")
	}
	return T(ctx, "desk.empty_mine_text")
}

func channelName(ctx context.Context, channel string) string {
	switch channel {
	case "widget":
		return T(ctx, "desk.channel_widget")
	case "internal":
		return T(ctx, "desk.channel_internal")
	case models.ChannelKey:
		return T(ctx, "sessions.channel_key")
	case models.ChannelLink:
		return T(ctx, "sessions.channel_link")
	}
	return channel
}

// earlierURL is a thread's page before message before, at path (desk or
// widget): models.ThreadQuery encodes it.
func earlierURL(path string, before int64) string {
	return path + "?" + models.ThreadQuery{Before: before}.Values().Encode()
}

// waitClass is the colour class of r's wait ("wait-green", …), if any.
func waitClass(r *models.InboxRow, l ListState) string {
	if lvl := waitingLevel(r, l); lvl != models.LevelNone {
		return "wait-" + lvl
	}
	return ""
}

// WaitingValues are the waiting form's fields for the stored settings.
func WaitingValues(s *models.DeskSettings) map[string]string {
	return map[string]string{"waiting_amber": strconv.Itoa(s.WaitingAmberMinutes), "waiting_red": strconv.Itoa(s.WaitingRedMinutes)}
}
