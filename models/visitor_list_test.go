package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

// A merged list is what VisitorConversations would read now: newest
// message first (ties by id, newest first), each conversation once, at most
// limit.
func TestMergeVisitorConversations(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	conv := func(id int64, minutes int) models.Conversation {
		return models.Conversation{ID: id, LastMessageAt: at.Add(time.Duration(minutes) * time.Minute)}
	}
	ids := func(cs []models.Conversation) []int64 {
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	list := []models.Conversation{conv(3, 3), conv(2, 2), conv(1, 1)}

	moved := conv(1, 4)
	assert.Equal(t, []int64{1, 3, 2}, ids(models.MergeVisitorConversations(list, []*models.Conversation{&moved}, 30)), "answered: to the top, once")

	tied, fresh := conv(2, 3), conv(4, 5)
	assert.Equal(t, []int64{4, 3, 2, 1}, ids(models.MergeVisitorConversations(list, []*models.Conversation{&tied, &fresh}, 30)), "ties by id; a new one joins")
	assert.Equal(t, []int64{4, 3}, ids(models.MergeVisitorConversations(list, []*models.Conversation{&tied, &fresh}, 2)), "at most limit")
	assert.Equal(t, []int64{3, 2, 1}, ids(models.MergeVisitorConversations(list, nil, 30)))
}
