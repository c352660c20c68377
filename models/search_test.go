package models_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The indexer catches up from the event log: the first run indexes what
// exists, later runs only what new events touched (an edit of the message
// table without an event is not seen until its event), runs are idempotent,
// and search finds messages in their conversation's language, notes, items
// and customers, never status lines.
func TestSearchIndexerCatchesUp(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "My invoices are missing", Session: models.SessionInfo{Language: "en-GB"}})

	st, err := models.IndexSearch(ctx, db)
	require.NoError(t, err)
	assert.True(t, st.Full, "the first run indexes everything")
	assert.Positive(t, st.Written)

	search := func(q string) models.SearchResult {
		t.Helper()
		r, err := models.Search(ctx, db, models.SearchQuery{Q: q, Viewer: agent})
		require.NoError(t, err)
		return r
	}
	// English stemming: "invoice" finds "invoices".
	r := search("invoice")
	require.Len(t, r.Hits, 1)
	assert.Equal(t, conv.PublicID, r.Hits[0].PublicID)
	assert.Contains(t, r.Hits[0].Snippet, models.HighlightStart+"invoices"+models.HighlightStop)

	// A later note is found once the indexer has run again, not before.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageNote, "Refund approved by finance")
	})
	require.NoError(t, err)
	assert.Empty(t, search("refund").Hits, "not indexed yet")
	st, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	assert.False(t, st.Full)
	assert.EqualValues(t, 2, st.Written, "only the note and its customer are rewritten: %+v", st)
	assert.Len(t, search("refund").Hits, 1)

	// An edit reindexes the note; a deletion drops it.
	var note models.Message
	require.NoError(t, db.Where("conversation_id = ? AND kind = ?", conv.ID, models.MessageNote).Take(&note).Error)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.EditMessage(ctx, tx, agent, conv, note.ID, "Refund approved by the treasurer")
	})
	require.NoError(t, err)
	_, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	assert.Len(t, search("treasurer").Hits, 1, "edited text")
	assert.Empty(t, search("finance").Hits, "the old text is gone")
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.DeleteMessage(ctx, tx, agent, conv, note.ID)
	})
	require.NoError(t, err)
	st, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Removed)
	assert.Empty(t, search("treasurer").Hits, "deleted")

	// Caught up: nothing to do; a closing status line is not searchable.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetStatus(ctx, tx, agent, conv, models.StatusClosed)
	}))
	st, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	_, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	var docs int64
	require.NoError(t, db.Raw("SELECT count(*) FROM search_documents WHERE kind = 'message'").Scan(&docs).Error)
	assert.EqualValues(t, 1, docs, "the message; no deleted note, no status line")

	// Filters apply.
	r, err = models.Search(ctx, db, models.SearchQuery{Q: "invoice", Status: models.StatusOpen, Viewer: agent})
	require.NoError(t, err)
	assert.Empty(t, r.Hits, "closed now")

	// Numbers, customers, items.
	assert.NotNil(t, search(conv.Number()).Exact)
	item, err := factory.Write1(db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, agent, models.ItemInput{Kind: models.ItemTask, Title: "Quarterly reconciliation", Description: "Check the ledger"})
	})
	require.NoError(t, err)
	_, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	r, err = models.Search(ctx, db, models.SearchQuery{Q: "ledger", Kind: models.SearchKindItems, Viewer: agent})
	require.NoError(t, err)
	require.Len(t, r.Hits, 1)
	assert.Equal(t, item.Ref(), r.Hits[0].Ref())
	r, err = models.Search(ctx, db, models.SearchQuery{Q: item.Ref(), Kind: models.SearchKindItems, Viewer: agent})
	require.NoError(t, err)
	assert.Len(t, r.Hits, 1, "by reference")

	// Syntax characters are words or nothing, never an error.
	for _, q := range []string{`&|!():*'"\`, `a & | b`, `"unclosed`, `!!!`, `(`, strings.Repeat("x", models.MaxSearchLen)} {
		_, err := models.Search(ctx, db, models.SearchQuery{Q: q, Viewer: agent})
		assert.NoError(t, err, q)
	}
	assert.True(t, search(`&|!():*'"\`).NoWords)
}

// ParseSearchQuery reads what Values wrote and refuses what it did not.
func TestSearchQueryRoundTrip(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{"q=a", "q=a&kind=items&status=todo&assignee=me&team=3", "q=x&channel=widget&from=2026-01-02&to=2026-02-03&after=1700000000000000-5", "kind=customers&q=b"} {
		v, _ := url.ParseQuery(raw)
		q, err := models.ParseSearchQuery(v)
		require.NoError(t, err, raw)
		q2, err := models.ParseSearchQuery(q.Values())
		require.NoError(t, err)
		assert.Equal(t, q, q2, raw)
	}
	for raw, code := range map[string]string{
		"q=a&sort=x":                        "unknown_filter",
		"q=a&status=maybe":                  "bad_filter",
		"q=a&from=yesterday":                "bad_filter",
		"q=a&from=2026-02-02&to=2026-01-01": "bad_filter",
		"q=a&after=zzz":                     "bad_cursor",
		"q=" + strings.Repeat("a", 1000):    "too_long",
	} {
		v, _ := url.ParseQuery(raw)
		_, err := models.ParseSearchQuery(v)
		var se *models.SearchError
		require.ErrorAs(t, err, &se, raw)
		assert.Equal(t, code, se.Code, raw)
	}
}

// Both plans page alike: one result per conversation (at its newest
// match), newest first, each conversation once across pages, filters
// applied, the same whichever plan the probe picks.
func TestSearchPlansPageAlike(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	var convs []*models.Conversation
	for i := range 5 {
		_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "parcel lost " + strings.Repeat("again ", i)})
		convs = append(convs, conv)
	}
	// Conversation 0 gets a newer match: it comes first; 2 is closed.
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, convs[0], models.MessageText, "the parcel is on its way")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetStatus(ctx, tx, agent, convs[2], models.StatusClosed)
	}))
	_, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)

	pages := func(q models.SearchQuery) ([]string, string) {
		var ids []string
		var plan string
		for range 10 {
			r, err := models.Search(ctx, db, q)
			require.NoError(t, err)
			plan = r.Plan
			for _, h := range r.Hits {
				ids = append(ids, h.PublicID)
			}
			if r.Older == nil {
				break
			}
			q.After = r.Older
		}
		return ids, plan
	}
	want := []string{convs[0].PublicID, convs[4].PublicID, convs[3].PublicID, convs[2].PublicID, convs[1].PublicID}
	for _, probe := range []int{1000, 1} {
		q := models.WithSearchProbe(models.SearchQuery{Q: "parcel", Viewer: agent, Limit: 2}, probe)
		got, plan := pages(q)
		assert.Equal(t, want, got, plan)
		assert.Equal(t, map[int]string{1000: "rare", 1: "common"}[probe], plan)
		q.Status = models.StatusOpen
		got, _ = pages(q)
		assert.Equal(t, []string{want[0], want[1], want[2], want[4]}, got, plan)
	}
	// With a conversation filter the common plan walks the filtered
	// conversations, bounded by their last change: a note newer than the
	// last reply still puts its conversation first.
	for _, c := range []*models.Conversation{convs[1], convs[3]} {
		require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, agent, c, &agent.ID) }))
	}
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, convs[1], models.MessageNote, "parcel found in the back room")
	})
	require.NoError(t, err)
	_, err = models.IndexSearch(ctx, db)
	require.NoError(t, err)
	for _, probe := range []int{1000, 1} {
		q := models.WithSearchProbe(models.SearchQuery{Q: "parcel", Viewer: agent, Limit: 1, Assignee: "me"}, probe)
		got, plan := pages(q)
		assert.Equal(t, []string{convs[1].PublicID, convs[3].PublicID}, got, plan)
		assert.Equal(t, map[int]string{1000: "rare", 1: "filtered"}[probe], plan)
	}
	other := factory.User(t, db, factory.UserOpts{})
	r, err := models.Search(ctx, db, models.SearchQuery{Q: "parcel", Viewer: other})
	require.NoError(t, err)
	assert.Empty(t, r.Hits, "no customer data without the support flag")
}
