package views

import (
	"context"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
)

// SearchPage is what the search page shows: the query (as parsed, even
// when it could not run), its results, the problem with it if any, and the
// filter choices.
type SearchPage struct {
	Query  models.SearchQuery
	Result models.SearchResult
	// Error is why the query did not run (shown beside the box).
	Error *models.SearchError
	// Assignees are the assignee filter's chosen person (none or one: the
	// menu loads the others, who items of AssigneeKind may be assigned to,
	// when used); Teams the teams.
	Assignees    []models.User
	AssigneeKind string
	Teams        []models.TeamOption
}

// searchURL is the search page for q (models.SearchQuery.Values).
func searchURL(q models.SearchQuery) templ.SafeURL {
	return templ.SafeURL("/search?" + url.Values(q.Values()).Encode())
}

// tabURL is q's first page on the tab kind.
func (p SearchPage) tabURL(kind string) templ.SafeURL {
	q := p.Query
	q.Kind, q.After = kind, nil
	return searchURL(q)
}

// olderURL is the next page.
func (p SearchPage) olderURL() templ.SafeURL {
	q := p.Query
	q.After = p.Result.Older
	return searchURL(q)
}

// searchTabs are the tabs u may use.
func searchTabs(u *models.User) []string {
	if models.CanSeeCustomerData(u) {
		return []string{models.SearchKindConversations, models.SearchKindItems, models.SearchKindCustomers}
	}
	return []string{models.SearchKindConversations, models.SearchKindItems}
}

// highlight renders a snippet: its text escaped, the words the search
// matched (between models.HighlightStart and HighlightStop) in <mark>.
func highlight(s string) templ.Component {
	s = html.EscapeString(s)
	s = strings.ReplaceAll(s, models.HighlightStart, "<mark>")
	s = strings.ReplaceAll(s, models.HighlightStop, "</mark>")
	return templ.Raw(s)
}

// searchHitURL is where a result leads.
func searchHitURL(h *models.SearchHit) templ.SafeURL {
	switch h.Kind {
	case "item":
		return templ.SafeURL(ItemBase(h.ItemKind) + "/" + idString(h.ItemNumber))
	case "customer":
		if h.LatestConversation == "" {
			return ""
		}
		return templ.SafeURL("/conversations/" + h.LatestConversation)
	}
	return templ.SafeURL("/conversations/" + h.PublicID)
}

// searchHitTitle names a conversation result: its customer, or a teammate
// chat's subject.
func searchHitTitle(ctx context.Context, h *models.SearchHit) string {
	switch {
	case h.ConvKind == models.KindInternal && h.Subject != "":
		return h.Subject
	case h.ConvKind == models.KindInternal:
		return T(ctx, "search.teammate_chat")
	case h.CustomerName != "":
		return h.CustomerName
	case h.CustomerEmail != "":
		return h.CustomerEmail
	}
	return T(ctx, "search.visitor")
}

// searchErrorText is the page's message for a query that could not run.
func searchErrorText(ctx context.Context, e *models.SearchError) string {
	switch e.Code {
	case "too_long":
		return T(ctx, "search.error_too_long", e.Data)
	case "unknown_filter":
		return T(ctx, "search.error_unknown_filter", e.Data)
	case "bad_cursor":
		return T(ctx, "search.error_bad_cursor")
	}
	return T(ctx, "search.error_bad_filter", e.Data)
}

// searchTabText names a results tab.
func searchTabText(ctx context.Context, kind string) string {
	switch kind {
	case models.SearchKindItems:
		return T(ctx, "search.tab_items")
	case models.SearchKindCustomers:
		return T(ctx, "search.tab_customers")
	}
	return T(ctx, "search.tab_conversations")
}

// convStatusText is a conversation result's status.
func convStatusText(ctx context.Context, status string) string {
	if status == models.StatusClosed {
		return T(ctx, "search.status_closed")
	}
	return T(ctx, "search.status_open")
}

func dateValue(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2006-01-02")
}

// searchItemStatuses are the statuses of tickets and tasks, once each.
func searchItemStatuses() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range append(models.ItemStatuses(models.ItemTicket), models.ItemStatuses(models.ItemTask)...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
