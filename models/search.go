package models

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Search finds conversations (by message and note text, and by number),
// tickets and tasks (title, description, number) and customers (name,
// email) in the search index (search_index.go), newest first, scoped by the
// access rules of access.go.

// Search result kinds: the results page's tabs.
const (
	SearchKindConversations = "conversations"
	SearchKindItems         = "items"
	SearchKindCustomers     = "customers"
)

// MaxSearchLen is the longest query accepted, in characters.
const MaxSearchLen = 200

// searchProbe is how many matching documents decide between the plans of
// a conversation search: fewer, and the matches are gathered through the
// GIN index and sorted (a cost in the number of matches); at least as
// many, and the newest documents are walked in order until a page is full
// (a cost in documents read per result: total documents / matches, times
// 1 / the share of conversations a filter keeps), or, with a conversation
// filter, the filtered conversations are (conversations read per result:
// about a tenth of documents / matches, whatever the filter keeps). At
// 10,000,000 messages both ends stay near 10,000 rows read. The planner
// cannot tell a missing word from a rare one and, for a word that matches
// nothing, would walk the whole recency index.
const searchProbe = 10000

// searchCountAbove: a word the planner expects in more than this many
// probes' worth of documents (it knows the frequent words from ANALYZE)
// is common without counting.
const searchCountAbove = 10

// searchWalkSlack widens the bound of the filtered walk (conversations
// changed since the page's oldest result): updated_at is written by the
// database's clock with each message, but a few updates take the
// application's, which may be a little behind.
const searchWalkSlack = "5 minutes"

// searchByCustomer is how many conversations of matching customers head
// the first page of conversation results.
const searchByCustomer = 5

// searchConfigs are the text search configurations of search_config (the
// migration): a query is parsed in each and their union searched, so a
// document matches in its own language.
var searchConfigs = []string{"simple", "english", "portuguese", "french", "spanish", "german", "italian", "dutch"}

// SearchQuery is a search as the page asks it: the words, the tab, the
// filters and the page.
type SearchQuery struct {
	Q    string
	Kind string // SearchKindConversations (default), SearchKindItems, SearchKindCustomers
	// Filters: Status (a conversation's or an item's), Assignee ("me",
	// "none" or a user id), Team (a team id), Channel (widget, internal),
	// From and To (dates, inclusive, UTC).
	Status   string
	Assignee string
	Team     int64
	Channel  string
	From, To *time.Time
	// After is the page's cursor: the last result shown.
	After *InboxCursor

	Viewer *User
	Limit  int

	// probe replaces searchProbe (tests of both plans on small data).
	probe int
}

// SearchError is a query the search cannot run; Code names the problem
// for the page (search.error_<code>), Data its details.
type SearchError struct {
	Code string
	Data map[string]any
}

func (e *SearchError) Error() string { return "search: " + e.Code }

var searchStatuses = map[string]bool{
	StatusOpen: true, StatusClosed: true,
	"new": true, "in_progress": true, "waiting": true, "resolved": true, "todo": true, "done": true,
}

var searchKeys = map[string]bool{"q": true, "kind": true, "status": true, "assignee": true, "team": true,
	"channel": true, "from": true, "to": true, "after": true}

const searchDate = "2006-01-02"

// Values encodes q for links (tabs, the next page, the filter form).
func (q SearchQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v[k] = []string{s}
		}
	}
	set("q", q.Q)
	if q.Kind != SearchKindConversations {
		set("kind", q.Kind)
	}
	set("status", q.Status)
	set("assignee", q.Assignee)
	if q.Team > 0 {
		set("team", strconv.FormatInt(q.Team, 10))
	}
	set("channel", q.Channel)
	if q.From != nil {
		set("from", q.From.Format(searchDate))
	}
	if q.To != nil {
		set("to", q.To.Format(searchDate))
	}
	if q.After != nil {
		set("after", q.After.String())
	}
	return v
}

// ParseSearchQuery reads what Values wrote. Unknown parameters, values and
// cursors are a *SearchError (with what could be read in the query, so the
// page can show the box filled in); empty filter values are no filter.
func ParseSearchQuery(v url.Values) (SearchQuery, error) {
	get := func(k string) string {
		if len(v[k]) == 0 {
			return ""
		}
		return strings.TrimSpace(v[k][0])
	}
	q := SearchQuery{Q: get("q"), Kind: SearchKindConversations}
	if utf8.RuneCountInString(q.Q) > MaxSearchLen {
		q.Q = string([]rune(q.Q)[:MaxSearchLen])
		return q, &SearchError{Code: "too_long", Data: map[string]any{"Max": MaxSearchLen}}
	}
	for k := range v {
		if !searchKeys[k] {
			return q, &SearchError{Code: "unknown_filter", Data: map[string]any{"Name": k}}
		}
	}
	bad := func(name string) error {
		return &SearchError{Code: "bad_filter", Data: map[string]any{"Name": name}}
	}
	switch k := get("kind"); k {
	case "", SearchKindConversations:
	case SearchKindItems, SearchKindCustomers:
		q.Kind = k
	default:
		return q, bad("kind")
	}
	if s := get("status"); s != "" {
		if !searchStatuses[s] {
			return q, bad("status")
		}
		q.Status = s
	}
	if a := get("assignee"); a != "" {
		if n, err := strconv.ParseInt(a, 10, 64); a != "me" && a != "none" && (err != nil || n <= 0) {
			return q, bad("assignee")
		}
		q.Assignee = a
	}
	if t := get("team"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n <= 0 {
			return q, bad("team")
		}
		q.Team = n
	}
	switch ch := get("channel"); ch {
	case "":
	case "widget", "internal":
		q.Channel = ch
	default:
		return q, bad("channel")
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := get(d.name); s != "" {
			t, err := time.Parse(searchDate, s)
			if err != nil {
				return q, bad(d.name)
			}
			*d.dst = &t
		}
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		return q, bad("to")
	}
	after, err := ParseInboxCursor(get("after"))
	if err != nil {
		return q, &SearchError{Code: "bad_cursor"}
	}
	q.After = after
	return q, nil
}

// SearchHit is one result. Snippet is plain text with the matching words
// between HighlightStart and HighlightStop (ts_headline's markers), for the
// view to escape and mark.
type SearchHit struct {
	Kind string
	At   time.Time // newest first, by this
	ID   int64     // the message, item or customer id (the cursor's tie-break)

	// Conversations.
	ConversationID int64
	PublicID       string
	ConvKind       string
	Status         string
	Channel        string
	Subject        string
	CustomerName   string
	CustomerEmail  string
	// Items.
	ItemKind   string
	ItemNumber int64
	Title      string
	// Customers: their newest conversation, if any.
	LatestConversation string

	Snippet string
}

// Cursor is the keyset position just after h.
func (h SearchHit) Cursor() InboxCursor { return InboxCursor{At: h.At, ID: h.ID} }

// Ref is an item hit's reference (T-1042).
func (h SearchHit) Ref() string {
	return ItemPrefix(h.ItemKind) + "-" + strconv.FormatInt(h.ItemNumber, 10)
}

// Number is a conversation hit's number (#42).
func (h SearchHit) Number() string { return "#" + strconv.FormatInt(h.ConversationID, 10) }

// SearchResult is a page of results.
type SearchResult struct {
	// Exact is the conversation or item whose number the query is, on the
	// first page.
	Exact *SearchHit
	// ByCustomer are, on the first page for staff with customer data
	// rights, the newest conversations of customers whose name or email
	// matches (at most searchByCustomer).
	ByCustomer []SearchHit
	Hits       []SearchHit
	// Older: there is a next page, after the last hit.
	Older *InboxCursor
	// NoWords: the query has no word to search (only stop words or syntax).
	NoWords bool
	// Plan says how conversations were searched: none, rare or common.
	Plan string
}

// Highlight markers ts_headline puts around matches in SearchHit.Snippet.
const (
	HighlightStart = "\u27e6"
	HighlightStop  = "\u27e7"
)

const headlineOpts = "StartSel=" + HighlightStart + ", StopSel=" + HighlightStop + ", MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \""

var convNumberRe = regexp.MustCompile(`^#?(\d{1,18})$`)

// Search runs q. An empty query finds nothing (the page asks for words).
func Search(ctx context.Context, db *gorm.DB, q SearchQuery) (SearchResult, error) {
	var res SearchResult
	if q.Q == "" || q.Viewer == nil {
		return res, nil
	}
	if q.Limit <= 0 {
		q.Limit = 20
	}
	if q.probe <= 0 {
		q.probe = searchProbe
	}
	// The query in every configuration, each distinct form once, as one
	// tsquery: a document matches in its own language.
	var forms []string
	if err := db.WithContext(ctx).Raw(`SELECT DISTINCT websearch_to_tsquery(c::regconfig, @q)::text FROM unnest(CAST(@configs AS text[])) c`,
		map[string]any{"q": searchWords(q.Q), "configs": "{" + strings.Join(searchConfigs, ",") + "}"}).Scan(&forms).Error; err != nil {
		return res, fmt.Errorf("search: parse query: %w", err)
	}
	var parts []string
	for _, f := range forms {
		if f != "" {
			parts = append(parts, "("+f+")")
		}
	}
	slices.Sort(parts)
	tq := strings.Join(parts, " | ")
	var num int64
	if m := convNumberRe.FindStringSubmatch(q.Q); m != nil {
		num, _ = strconv.ParseInt(m[1], 10, 64)
	}
	itemKind, itemNum, isRef := ParseItemRef(q.Q)
	if !isRef {
		itemNum = 0
	}
	res.NoWords = tq == "" && num == 0 && itemNum == 0
	if res.NoWords {
		return res, nil
	}
	args := map[string]any{
		"tq": tq, "limit": q.Limit + 1, "me": q.Viewer.ID, "support": CanSeeCustomerData(q.Viewer),
		"status": q.Status, "channel": q.Channel, "team": q.Team, "opts": headlineOpts,
		"num": num, "item_num": itemNum, "item_kind": itemKind,
	}
	if q.Assignee != "" {
		args["assignee"] = q.Assignee
		if q.Assignee == "me" {
			args["assignee"] = strconv.FormatInt(q.Viewer.ID, 10)
		}
	}
	if q.From != nil {
		args["from"] = *q.From
	}
	if q.To != nil {
		args["to"] = q.To.AddDate(0, 0, 1)
	}
	if q.After != nil {
		args["at"], args["id"] = q.After.At, q.After.ID
	}
	var err error
	switch q.Kind {
	case SearchKindItems:
		err = searchItems(ctx, db, q, tq, args, &res)
	case SearchKindCustomers:
		err = searchCustomers(ctx, db, q, tq, args, &res)
	default:
		err = searchConversations(ctx, db, q, tq, args, &res)
	}
	if err != nil {
		return res, fmt.Errorf("search %s: %w", q.Kind, err)
	}
	if len(res.Hits) > q.Limit {
		res.Hits = res.Hits[:q.Limit]
		c := res.Hits[len(res.Hits)-1].Cursor()
		res.Older = &c
	}
	return res, nil
}

// searchWords keeps of a query what the parser should read as words: letters,
// digits, and the characters that join parts of an email address or a
// number (@ . _ - + #), plus websearch_to_tsquery's own syntax (quotes for a
// phrase, a leading - for "not", "or"). Everything else separates words: the
// default parser would otherwise read "/zebra" as a file path and "a:b" as
// one token, which the same words in a message never are.
func searchWords(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
			return r
		case strings.ContainsRune(`@._-+#"`, r):
			return r
		}
		return ' '
	}, s)
}

// conversationFilters are q's filters on the conversations row c.
func conversationFilters(q SearchQuery) string {
	w := " AND " + userSeesConversationSQL("c")
	if q.Status == StatusOpen || q.Status == StatusClosed {
		w += " AND c.status = @status"
	}
	switch q.Assignee {
	case "":
	case "none":
		w += " AND c.assignee_id IS NULL"
	default:
		w += " AND c.assignee_id = CAST(@assignee AS bigint)"
	}
	if q.Team > 0 {
		w += " AND c.team_id = @team"
	}
	if q.Channel != "" {
		w += " AND c.channel = @channel"
	}
	return w
}

// dateFilter is q's date range on the column col.
func dateFilter(q SearchQuery, col string) string {
	w := ""
	if q.From != nil {
		w += " AND " + col + " >= @from"
	}
	if q.To != nil {
		w += " AND " + col + " < @to"
	}
	return w
}

func afterFilter(q SearchQuery, at, id string) string {
	if q.After == nil {
		return ""
	}
	return " AND (" + at + ", " + id + ") < (@at, @id)"
}

func searchConversations(ctx context.Context, db *gorm.DB, q SearchQuery, tq string, args map[string]any, res *SearchResult) error {
	filters := conversationFilters(q)
	if q.After == nil && args["num"].(int64) > 0 && (q.Status == "" || q.Status == StatusOpen || q.Status == StatusClosed) {
		var exact []SearchHit
		err := db.WithContext(ctx).Raw(`
			SELECT 'conversation' AS kind, c.last_message_at AS at, c.id, c.id AS conversation_id, c.public_id,
			       c.kind AS conv_kind, c.status, c.channel, c.subject, cu.name AS customer_name, cu.email AS customer_email,
			       c.last_message_preview AS snippet
			FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id
			WHERE c.id = @num`+filters, args).Scan(&exact).Error
		if err != nil {
			return err
		}
		if len(exact) == 1 {
			res.Exact = &exact[0]
		}
	}
	if tq == "" {
		res.Plan = "none"
		return nil
	}
	if q.After == nil && CanSeeCustomerData(q.Viewer) {
		// The customer documents are few per customer; a common name
		// reads at most searchByCustomer*10 of them.
		err := db.WithContext(ctx).Raw(`
			SELECT 'conversation' AS kind, c.last_message_at AS at, c.id, c.id AS conversation_id, c.public_id,
			       c.kind AS conv_kind, c.status, c.channel, c.subject, cu.name AS customer_name, cu.email AS customer_email,
			       ts_headline('simple', cu.name || ' ' || cu.email, CAST(@tq AS tsquery), @opts) AS snippet
			FROM (SELECT d.customer_id FROM search_documents d WHERE d.kind = 'customer' AND d.tsv @@ CAST(@tq AS tsquery)
			      LIMIT @by_customer * 10) m
			JOIN customers cu ON cu.id = m.customer_id
			JOIN LATERAL (SELECT * FROM conversations c WHERE c.customer_id = cu.id
			              ORDER BY c.last_message_at DESC LIMIT @by_customer) c ON TRUE
			WHERE TRUE`+filters+dateFilter(q, "c.last_message_at")+`
			ORDER BY c.last_message_at DESC, c.id DESC
			LIMIT @by_customer`, withArg(args, "by_customer", searchByCustomer)).Scan(&res.ByCustomer).Error
		if err != nil {
			return err
		}
	}
	var ids []struct {
		ID int64
		At time.Time
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The plans' costs are guesses (how soon a walk fills a page):
		// compiling them (JIT, over jit_above_cost) took longer than
		// running them. Each plan is made for its words and dates: a
		// prepared statement's generic plan (after five runs) read a
		// rare word's week through the recency index.
		if err := tx.Exec("SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan").Error; err != nil {
			return err
		}
		n, err := probeMatches(tx, tq, q.probe)
		if err != nil {
			return err
		}
		switch {
		case n == 0:
			res.Plan = "none"
			return nil
		case n < q.probe:
			res.Plan = "rare"
			return gatherMatches(tx, q, args, &ids)
		case q.Assignee != "" || q.Team > 0 || q.Status == StatusOpen || q.Status == StatusClosed:
			// (The filters conversationFilters applies, each led by an index.)
			res.Plan = "filtered"
			return walkConversations(tx, q, args, &ids)
		default:
			res.Plan = "common"
			return walkDocuments(tx, q, args, &ids)
		}
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	// Details and snippets for this page's rows only.
	msgIDs := make([]int64, len(ids))
	for i, r := range ids {
		msgIDs[i] = r.ID
	}
	var hits []SearchHit
	err = db.WithContext(ctx).Raw(`
		SELECT 'conversation' AS kind, d.created_at AS at, d.ref_id AS id, c.id AS conversation_id, c.public_id,
		       c.kind AS conv_kind, c.status, c.channel, c.subject, cu.name AS customer_name, cu.email AS customer_email,
		       ts_headline(d.config, m.body, CAST(@tq AS tsquery), @opts) AS snippet
		FROM search_documents d
		JOIN messages m ON m.id = d.ref_id
		JOIN conversations c ON c.id = d.conversation_id
		LEFT JOIN customers cu ON cu.id = c.customer_id
		WHERE d.kind = 'message' AND d.ref_id IN @ids`+conversationFilters(q)+`
		ORDER BY d.created_at DESC, d.ref_id DESC`, withArg(args, "ids", msgIDs)).Scan(&hits).Error
	if res.Exact != nil {
		// The conversation by number heads the page unless its text
		// matched on this page too (it would show twice).
		for i := range hits {
			if hits[i].ConversationID == res.Exact.ConversationID {
				res.Exact = nil
				break
			}
		}
	}
	res.Hits = hits
	return err
}

func withArg(args map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(args)+1)
	for a, b := range args {
		out[a] = b
	}
	out[k] = v
	return out
}

func searchItems(ctx context.Context, db *gorm.DB, q SearchQuery, tq string, args map[string]any, res *SearchResult) error {
	w := " AND " + userSeesItemSQL("i")
	if q.Status != "" {
		w += " AND i.status = @status"
	}
	switch q.Assignee {
	case "":
	case "none":
		w += " AND i.assignee_id IS NULL"
	default:
		w += " AND i.assignee_id = CAST(@assignee AS bigint)"
	}
	if q.Team > 0 {
		w += " AND i.team_id = @team"
	}
	match := "FALSE"
	if tq != "" {
		match = "d.tsv @@ CAST(@tq AS tsquery)"
	}
	if args["item_num"].(int64) > 0 {
		match += " OR (i.number = @item_num AND (@item_kind = '' OR i.kind = @item_kind))"
	}
	tqArg := tq
	if tqArg == "" {
		tqArg = "''" // a headline of nothing: the title as it is
	}
	return db.WithContext(ctx).Raw(`
		SELECT 'item' AS kind, d.created_at AS at, i.id, i.kind AS item_kind, i.number AS item_number, i.title, i.status,
		       ts_headline('simple', i.title || ' — ' || i.description, CAST(@tq2 AS tsquery), @opts) AS snippet
		FROM search_documents d JOIN items i ON i.id = d.item_id
		WHERE d.kind = 'item' AND (`+match+`)`+w+dateFilter(q, "d.created_at")+afterFilter(q, "d.created_at", "d.ref_id")+`
		ORDER BY d.created_at DESC, d.ref_id DESC
		LIMIT @limit`, withArg(args, "tq2", tqArg)).Scan(&res.Hits).Error
}

func searchCustomers(ctx context.Context, db *gorm.DB, q SearchQuery, tq string, args map[string]any, res *SearchResult) error {
	if !CanSeeCustomerData(q.Viewer) || tq == "" {
		return nil
	}
	return db.WithContext(ctx).Raw(`
		SELECT 'customer' AS kind, d.created_at AS at, cu.id, cu.name AS customer_name, cu.email AS customer_email,
		       (SELECT c.public_id FROM conversations c WHERE c.customer_id = cu.id ORDER BY c.last_message_at DESC LIMIT 1) AS latest_conversation,
		       ts_headline('simple', cu.name || ' ' || cu.email, CAST(@tq AS tsquery), @opts) AS snippet
		FROM search_documents d JOIN customers cu ON cu.id = d.customer_id
		WHERE d.kind = 'customer' AND d.tsv @@ CAST(@tq AS tsquery) AND @support`+dateFilter(q, "d.created_at")+afterFilter(q, "d.created_at", "d.ref_id")+`
		ORDER BY d.created_at DESC, d.ref_id DESC
		LIMIT @limit`, args).Scan(&res.Hits).Error
}

// probeMatches counts the messages matching tq, up to probe: from the GIN
// index only (a bitmap), never the recency index, so a missing word costs
// one index lookup. A word the planner's statistics put in far more
// documents is not counted (a bitmap of a million matches costs more than
// the walk it would decide).
func probeMatches(tx *gorm.DB, tq string, probe int) (int, error) {
	const match = `FROM search_documents d WHERE d.kind = 'message' AND d.tsv @@ CAST(@tq AS tsquery)`
	var plan string
	if err := tx.Raw(`EXPLAIN (FORMAT JSON) SELECT 1 `+match, map[string]any{"tq": tq}).Row().Scan(&plan); err != nil {
		return 0, err
	}
	var est []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal([]byte(plan), &est); err != nil || len(est) == 0 {
		return 0, fmt.Errorf("search estimate: %w (%.100s)", err, plan)
	}
	if est[0].Plan.Rows >= float64(probe*searchCountAbove) {
		return probe, nil
	}
	// The word alone, whatever the filters: a date range would make the
	// planner scan the table up to the range.
	if err := tx.Exec("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off").Error; err != nil {
		return 0, err
	}
	var n int
	if err := tx.Raw(`SELECT count(*) FROM (SELECT 1 `+match+` LIMIT @probe) s`,
		map[string]any{"tq": tq, "probe": probe}).Scan(&n).Error; err != nil {
		return 0, err
	}
	return n, tx.Exec("RESET enable_indexscan; RESET enable_seqscan").Error
}

// gatherMatches: a rare word's matches (fewer than the probe), each
// conversation's newest, the filters, newest first. The planner, which
// cannot count a union of configurations well, would hash all
// conversations, or join them all before sorting (2,800 lookups for one
// page of a word in 2,800 messages): the matches are sorted first and
// join by primary key until the page is full.
func gatherMatches(tx *gorm.DB, q SearchQuery, args map[string]any, ids any) error {
	if err := tx.Exec("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off").Error; err != nil {
		return err
	}
	return tx.Raw(`
		WITH a AS MATERIALIZED (
			SELECT d.ref_id, d.conversation_id, d.created_at FROM search_documents d
			WHERE d.kind = 'message' AND d.tsv @@ CAST(@tq AS tsquery)`+dateFilter(q, "d.created_at")+`),
		n AS (SELECT DISTINCT ON (a.conversation_id) a.* FROM a ORDER BY a.conversation_id, a.created_at DESC, a.ref_id DESC),
		m AS (SELECT * FROM n ORDER BY n.created_at DESC, n.ref_id DESC)
		SELECT m.ref_id AS id, m.created_at AS at
		FROM m JOIN conversations c ON c.id = m.conversation_id
		WHERE TRUE`+conversationFilters(q)+afterFilter(q, "m.created_at", "m.ref_id")+`
		ORDER BY m.created_at DESC, m.ref_id DESC
		LIMIT @limit`, args).Scan(ids).Error
}

// walkDocuments: a common word, no conversation filter: the newest
// documents, in order, until a page is full (a common word fills it at
// once), each at its conversation's newest match.
func walkDocuments(tx *gorm.DB, q SearchQuery, args map[string]any, ids any) error {
	if err := tx.Exec("SET LOCAL enable_bitmapscan = off").Error; err != nil {
		return err
	}
	to := ""
	if q.To != nil {
		to = " AND n.created_at < @to"
	}
	return tx.Raw(`
		SELECT d.ref_id AS id, d.created_at AS at
		FROM search_documents d JOIN conversations c ON c.id = d.conversation_id
		WHERE d.kind = 'message' AND d.tsv @@ CAST(@tq AS tsquery)`+dateFilter(q, "d.created_at")+conversationFilters(q)+afterFilter(q, "d.created_at", "d.ref_id")+`
		  AND NOT EXISTS (SELECT 1 FROM search_documents n WHERE n.conversation_id = d.conversation_id
		                  AND (n.created_at, n.ref_id) > (d.created_at, d.ref_id) AND n.tsv @@ CAST(@tq AS tsquery)`+to+`)
		ORDER BY d.created_at DESC, d.ref_id DESC
		LIMIT @limit`, args).Scan(ids).Error
}

// walkConversations: a common word with a conversation filter (assignee,
// team, status). Walking the newest documents would read 1 / (the share
// the filter keeps) documents per result, so the filtered conversations
// are walked instead, most recently changed first (the
// conversations_search_* indexes of migration 00034), each at its newest
// match. A conversation's newest searchable message is never newer than
// its updated_at (every message sets it): once a page's worth is found,
// only the conversations changed between its oldest match and the last
// conversation walked can still rank above it. Fewer than a page: every
// filtered conversation was walked.
func walkConversations(tx *gorm.DB, q SearchQuery, args map[string]any, ids any) error {
	to, from := "", ""
	if q.To != nil {
		to = " AND d.created_at < @to"
	}
	if q.From != nil {
		from = " AND c.updated_at >= CAST(@from AS timestamptz) - interval '" + searchWalkSlack + "'"
	}
	newest := ` CROSS JOIN LATERAL (SELECT d.ref_id, d.created_at FROM search_documents d
		WHERE d.conversation_id = c.id AND d.kind = 'message' AND d.tsv @@ CAST(@tq AS tsquery)` + to + `
		ORDER BY d.created_at DESC, d.ref_id DESC LIMIT 1) m
		WHERE TRUE` + conversationFilters(q) + from + dateFilter(q, "m.created_at") + afterFilter(q, "m.created_at", "m.ref_id")
	return tx.Raw(`
		WITH first AS MATERIALIZED (
			SELECT m.ref_id, m.created_at, c.updated_at FROM conversations c`+newest+`
			ORDER BY c.updated_at DESC LIMIT @limit),
		bound AS (SELECT CASE WHEN count(*) = @limit THEN min(created_at) - interval '`+searchWalkSlack+`' END AS t,
		                 min(updated_at) AS u FROM first)
		SELECT ref_id AS id, created_at AS at FROM first
		UNION
		SELECT m.ref_id, m.created_at FROM conversations c`+newest+`
		  AND c.updated_at >= (SELECT t FROM bound) AND c.updated_at <= (SELECT u FROM bound)
		ORDER BY at DESC, id DESC
		LIMIT @limit`, args).Scan(ids).Error
}
