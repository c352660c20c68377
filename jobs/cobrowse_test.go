package jobs

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

// The end of a co-browsing session (or a declined request) queues the
// purge of its chunks; nothing else about co-browsing queues work.
func TestCobrowseFollowUps(t *testing.T) {
	t.Parallel()
	conv := int64(7)
	ev := func(d models.CobrowseEvent) models.Event {
		return models.Event{Kind: models.EventCobrowse, ConversationID: &conv, Data: d}
	}
	for _, tc := range []struct {
		d    models.CobrowseEvent
		want int
	}{
		{models.CobrowseEvent{Session: 3, State: models.CobrowseRequested}, 0},
		{models.CobrowseEvent{Session: 3, State: models.CobrowseActive}, 0},
		{models.CobrowseEvent{Session: 3, Chunk: 9}, 0},
		{models.CobrowseEvent{Session: 3, Command: models.CobrowseHighlight, Node: 4}, 0},
		{models.CobrowseEvent{Session: 3, State: models.CobrowseEnded}, 1},
		{models.CobrowseEvent{Session: 3, State: models.CobrowseDeclined}, 1},
	} {
		got := FollowUps([]models.Event{ev(tc.d)}, FollowUpOptions{})
		var purges []CobrowsePurgeArgs
		for _, p := range got {
			if a, ok := p.Args.(CobrowsePurgeArgs); ok {
				purges = append(purges, a)
			}
		}
		if assert.Len(t, purges, tc.want, "%+v", tc.d) && tc.want == 1 {
			assert.EqualValues(t, 3, purges[0].SessionID)
		}
	}
}
