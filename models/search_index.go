package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"gorm.io/gorm"
)

// The search index (search_documents, migration 00018) is kept by a
// background job, not by the writes: IndexSearch reads the event log from
// its cursor up to the committed horizon and (re)writes the documents of
// the messages, items and customers those events touched. A message post
// therefore costs what it cost before search existed; results trail the
// writes by the job's period (a few seconds).

// searchableMessageSQL is which messages search may find (alias m): replies
// and notes, which every staff member who may open the conversation may
// read (CanSeeConversation; notes are for all staff), unless deleted (an
// edit or deletion records an event, which reindexes or drops the
// message). Status lines are not
// text anyone wrote. A message kind that some of the conversation's staff
// may not read (private messages) must be left out here: the indexer then
// drops its document, so search never needs a per-message visibility check.
const searchableMessageSQL = `m.kind IN ('message', 'note') AND m.deleted_at IS NULL`

// SearchIndexStats says what one IndexSearch run did.
type SearchIndexStats struct {
	// Full: the run indexed everything (first run, or the events it needed
	// had been pruned).
	Full bool
	// Documents written or removed.
	Written, Removed int64
	// From and To are the transaction ids of the events read: [From, To).
	From, To uint64
}

// IndexSearch brings the search index up to the committed horizon: when it
// returns, every write committed before it was called is searchable. Runs
// take turns on the cursor row (FOR UPDATE): a second run waits, then does
// what the first left (often nothing). Each document is written
// from the row as it is now, so reading an event twice does no harm and an
// edit reindexes the message.
func IndexSearch(ctx context.Context, db *gorm.DB) (SearchIndexStats, error) {
	h, err := CommittedHorizon(ctx, db)
	if err != nil {
		return SearchIndexStats{}, err
	}
	pruned, err := PrunedBefore(ctx, db)
	if err != nil {
		return SearchIndexStats{}, err
	}
	var st SearchIndexStats
	err = withoutEvents(ctx, db, func(tx *gorm.DB) error {
		var cur []int64
		if err := tx.Raw("SELECT indexed_xid FROM search_cursor WHERE id = 1 FOR UPDATE").Scan(&cur).Error; err != nil {
			return err
		}
		if len(cur) == 0 {
			return errors.New("no search_cursor row")
		}
		st.From, st.To = uint64(cur[0]), h.XID
		if st.From >= st.To {
			return nil
		}
		st.Full = st.From == 0 || st.From < pruned
		if err := indexSearchDocs(tx, &st); err != nil {
			return err
		}
		return tx.Exec("UPDATE search_cursor SET indexed_xid = ?, updated_at = now() WHERE id = 1", int64(st.To)).Error
	})
	if err != nil {
		return st, fmt.Errorf("index search: %w", err)
	}
	return st, nil
}

// indexSearchDocs writes the documents of what the events in [st.From,
// st.To) touched, or of everything when st.Full.
func indexSearchDocs(tx *gorm.DB, st *SearchIndexStats) error {
	args := map[string]any{"from": strconv.FormatUint(st.From, 10), "to": strconv.FormatUint(st.To, 10)}
	const inRange = `e.xid >= CAST(CAST(@from AS text) AS xid8) AND e.xid < CAST(CAST(@to AS text) AS xid8)`
	msgs, items, customers := "TRUE", "TRUE", "TRUE"
	if !st.Full {
		msgs = `m.id IN (SELECT e.message_id FROM events e WHERE ` + inRange + ` AND e.message_id IS NOT NULL)`
		items = `i.id IN (SELECT e.item_id FROM events e WHERE ` + inRange + ` AND e.item_id IS NOT NULL)`
		customers = `cu.id IN (SELECT c.customer_id FROM events e JOIN conversations c ON c.id = e.conversation_id
			WHERE ` + inRange + ` AND c.customer_id IS NOT NULL
			UNION SELECT i.requester_id FROM events e JOIN items i ON i.id = e.item_id
			WHERE ` + inRange + ` AND i.requester_id IS NOT NULL)`
		// Messages that are no longer searchable lose their document.
		r := tx.Exec(`DELETE FROM search_documents d WHERE d.kind = 'message'
			AND d.ref_id IN (SELECT e.message_id FROM events e WHERE `+inRange+` AND e.message_id IS NOT NULL)
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = d.ref_id AND `+searchableMessageSQL+`)`, args)
		if r.Error != nil {
			return r.Error
		}
		st.Removed += r.RowsAffected
	}
	for _, q := range []string{
		`INSERT INTO search_documents (kind, ref_id, conversation_id, config, tsv, created_at)
		SELECT 'message', m.id, m.conversation_id, search_config(c.language),
		       to_tsvector(search_config(c.language), m.body), m.created_at
		FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE ` + searchableMessageSQL + ` AND ` + msgs + `
		ON CONFLICT (kind, ref_id) DO UPDATE SET config = EXCLUDED.config, tsv = EXCLUDED.tsv, updated_at = now()`,
		`INSERT INTO search_documents (kind, ref_id, item_id, config, tsv, created_at)
		SELECT 'item', i.id, i.id, 'simple',
		       setweight(to_tsvector('simple', i.title || ' ' || i.number), 'A') || to_tsvector('simple', i.description), i.created_at
		FROM items i WHERE ` + items + `
		ON CONFLICT (kind, ref_id) DO UPDATE SET tsv = EXCLUDED.tsv, updated_at = now()`,
		`INSERT INTO search_documents (kind, ref_id, customer_id, config, tsv, created_at)
		SELECT 'customer', cu.id, cu.id, 'simple',
		       to_tsvector('simple', cu.name || ' ' || cu.email || ' ' || regexp_replace(cu.email, '[^[:alnum:]]+', ' ', 'g')), cu.created_at
		FROM customers cu WHERE ` + customers + `
		ON CONFLICT (kind, ref_id) DO UPDATE SET tsv = EXCLUDED.tsv, updated_at = now()`,
	} {
		var r *gorm.DB
		if st.Full {
			r = tx.Exec(q)
		} else {
			r = tx.Exec(q, args)
		}
		if r.Error != nil {
			return r.Error
		}
		st.Written += r.RowsAffected
	}
	return nil
}
