package models

import (
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The desk's lists in query strings. Each list has one encoder (a Values
// method, used by views for every link and stream address of that list) and
// one parser (used by the handlers), side by side here so the two cannot
// drift apart: Parse(q.Values()) gives q back for every query a page can
// show (list_query_test.go).

// Values is an inbox list (Section, Status, Filter, Team, Sort, Before) as
// query parameters: list (the section), status (when not open), filter
// (customers only, when not all), team (customers only, a team's queue),
// sort (when not newest activity) and
// before (the page's cursor). Viewer and
// Limit are the handler's, not the link's. A list page's path names the
// section already (/inbox, /mine), so its links leave "list" out.
func (q InboxQuery) Values() url.Values {
	v := url.Values{}
	if q.Section == "" {
		return v
	}
	v.Set("list", q.Section)
	if q.Status != "" && q.Status != StatusOpen {
		v.Set("status", q.Status)
	}
	if q.Section == SectionCustomers && q.Filter != "" && q.Filter != FilterAll {
		v.Set("filter", q.Filter)
	}
	if q.Section == SectionCustomers && q.Team > 0 {
		v.Set("team", strconv.FormatInt(q.Team, 10))
	}
	if q.Sort == SortWaiting {
		v.Set("sort", q.Sort)
	}
	if q.Before != nil {
		v.Set("before", q.Before.String())
	}
	return v
}

// ParseInboxQuery reads what InboxQuery.Values wrote. A missing or unknown
// list is no list (the zero query); unknown tabs, filters and sorts fall
// back to open, all and newest activity. A cursor that Values did not write is ErrBadCursor, with
// the rest of the query read.
func ParseInboxQuery(v url.Values) (InboxQuery, error) {
	section := v.Get("list")
	if section != SectionCustomers && section != SectionMine {
		return InboxQuery{}, nil
	}
	q := InboxQuery{Section: section, Status: StatusOpen, Filter: FilterAll}
	if v.Get("status") == StatusClosed {
		q.Status = StatusClosed
	}
	if section == SectionCustomers {
		switch f := v.Get("filter"); f {
		case FilterUnassigned, FilterMine, FilterUnanswered, FilterTeams:
			q.Filter = f
		}
		if n, err := strconv.ParseInt(v.Get("team"), 10, 64); err == nil && n > 0 {
			q.Team = n
		}
	}
	if v.Get("sort") == SortWaiting {
		q.Sort = SortWaiting
	}
	before, err := ParseInboxCursor(v.Get("before"))
	if err == nil && before != nil && before.At.IsZero() && q.Sort != SortWaiting {
		err = ErrBadCursor // "inf" is the waiting sort's alone
	}
	if err != nil {
		return q, err
	}
	q.Before = before
	return q, nil
}

// StreamParams is what a desk page's live stream keeps live: the page's
// kind, its list, the open conversation or item. The resume position
// ("since") is the stream's own and is added by the page beside these.
type StreamParams struct {
	// View is the page's kind: inbox, mine, conversation, item,
	// notifications, or page (any other staff page; the default).
	View string
	// List is the list on the page (zero: none), always from its first
	// page: Before is not sent.
	List InboxQuery
	// Paged says the page shows a later page of List, where rows are only
	// updated in place.
	Paged bool
	// Conv is the public id of the open conversation, if any.
	Conv string
	// Item is the id of the open item page, if any.
	Item int64
}

// Stream views.
const (
	ViewInbox         = "inbox"
	ViewMine          = "mine"
	ViewConversation  = "conversation"
	ViewItem          = "item"
	ViewNotifications = "notifications"
	ViewPage          = "page"
)

// Values is p as the stream's query parameters: view, the list's (list,
// status, filter), paged, c and item.
func (p StreamParams) Values() url.Values {
	l := p.List
	l.Before = nil
	v := l.Values()
	v.Set("view", p.View)
	if p.View == "" {
		v.Set("view", ViewPage)
	}
	if p.Paged && l.Section != "" {
		v.Set("paged", "1")
	}
	if p.Conv != "" {
		v.Set("c", p.Conv)
	}
	if p.Item != 0 {
		v.Set("item", strconv.FormatInt(p.Item, 10))
	}
	return v
}

// ParseStreamParams reads what StreamParams.Values wrote. It never fails: a
// stream with odd parameters keeps less live (an inbox or mine view is
// always its section's list; a conversation's list is the one named, if
// any; a bad cursor or item id is ignored).
func ParseStreamParams(v url.Values) StreamParams {
	p := StreamParams{View: v.Get("view"), Conv: v.Get("c")}
	if p.View == "" {
		p.View = ViewPage
	}
	p.Item, _ = strconv.ParseInt(v.Get("item"), 10, 64)
	section := ""
	switch p.View {
	case ViewInbox:
		section = SectionCustomers
	case ViewMine:
		section = SectionMine
	case ViewConversation:
		section = v.Get("list")
	}
	if section == SectionCustomers || section == SectionMine {
		lv := url.Values{"list": {section}, "status": v["status"], "filter": v["filter"], "sort": v["sort"], "team": v["team"]}
		p.List, _ = ParseInboxQuery(lv)
		p.Paged = v.Get("paged") == "1"
	}
	return p
}

// Values is an items list (its filters, sort and page) as query
// parameters: status, assignee, mine, team, priority, overdue, sort (when
// not updated), after and before. Kind is the list's path (/tickets,
// /tasks); Viewer and Limit are the handler's. Today is not part of a link
// (one followed tomorrow shows what is overdue tomorrow); a browser may send
// its own date as today, which ParseItemQuery reads.
func (q ItemQuery) Values() url.Values {
	v := url.Values{}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.AssigneeID != 0 {
		v.Set("assignee", strconv.FormatInt(q.AssigneeID, 10))
	}
	if q.Mine {
		v.Set("mine", "1")
	}
	if q.TeamID != 0 {
		v.Set("team", strconv.FormatInt(q.TeamID, 10))
	}
	if q.Priority != "" {
		v.Set("priority", q.Priority)
	}
	if q.Overdue {
		v.Set("overdue", "1")
	}
	if q.Sort != "" && q.Sort != SortUpdated {
		v.Set("sort", q.Sort)
	}
	if q.After != nil {
		v.Set("after", q.After.String())
	}
	if q.Before != nil {
		v.Set("before", q.Before.String())
	}
	return v
}

// ParseItemQuery reads what ItemQuery.Values wrote for kind's list (and the
// browser's today, YYYY-MM-DD; zero when absent). Unknown filter values
// fall back to "any", an unknown sort to updated; a cursor Values did not
// write is ErrBadItemCursor, with the rest of the query read.
func ParseItemQuery(kind string, v url.Values) (ItemQuery, error) {
	q := ItemQuery{Kind: kind}
	if s := v.Get("status"); s == StatusOpenOnes || (s != "" && slices.Contains(ItemStatuses(kind), s)) {
		q.Status = s
	}
	if p := v.Get("priority"); p != "" && slices.Contains(Priorities, p) {
		q.Priority = p
	}
	q.AssigneeID, _ = strconv.ParseInt(v.Get("assignee"), 10, 64)
	q.TeamID, _ = strconv.ParseInt(v.Get("team"), 10, 64)
	q.Mine = v.Get("mine") == "1"
	q.Overdue = v.Get("overdue") == "1"
	if d, err := time.Parse(time.DateOnly, v.Get("today")); err == nil {
		q.Today = d
	}
	q.Sort = v.Get("sort")
	if !ValidItemSort(q.Sort) {
		q.Sort = SortUpdated
	}
	var err1, err2 error
	q.After, err1 = ParseItemCursor(q.Sort, v.Get("after"))
	q.Before, err2 = ParseItemCursor(q.Sort, v.Get("before"))
	if err1 != nil || err2 != nil {
		return q, ErrBadItemCursor
	}
	return q, nil
}

// NotificationsQuery is a page of the notifications list: those older than
// Before (a notification id; 0 for the newest).
type NotificationsQuery struct {
	Before int64
}

// Values is q as query parameters: before, when paging.
func (q NotificationsQuery) Values() url.Values {
	v := url.Values{}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	return v
}

// ParseNotificationsQuery reads a notifications page's query; a before that
// no Older link made (not a positive id) is ErrNotFound, as before.
func ParseNotificationsQuery(v url.Values) (NotificationsQuery, error) {
	s := v.Get("before")
	if s == "" {
		return NotificationsQuery{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return NotificationsQuery{}, ErrNotFound
	}
	return NotificationsQuery{Before: n}, nil
}

// ThreadQuery is a page of a conversation's thread (desk and widget): the
// messages before Before (a message id; 0 for the newest).
type ThreadQuery struct {
	Before int64
}

// Values is q as query parameters: before, when paging back.
func (q ThreadQuery) Values() url.Values {
	v := url.Values{}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	return v
}

// ParseThreadQuery reads a thread page's query; a before that no "Load
// earlier" link made (not a positive id) is ErrBadCursor.
func ParseThreadQuery(v url.Values) (ThreadQuery, error) {
	s := v.Get("before")
	if s == "" {
		return ThreadQuery{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return ThreadQuery{}, ErrBadCursor
	}
	return ThreadQuery{Before: n}, nil
}
