package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/models"
)

// A transcript shows what the thread shows: an edited message's current
// text, marked, and a deleted one as deleted, never its old text.
func TestTranscriptShowsEditsAndDeletions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	uid := int64(1)
	conv := &models.Conversation{ID: 7, Kind: models.KindCustomer, CreatedAt: now}
	tr := &models.Transcript{Conversation: conv, Messages: []models.Message{
		{ID: 1, Kind: models.MessageText, AuthorType: "user", AuthorUserID: &uid, Body: "now corrected", EditedAt: &now, CreatedAt: now},
		{ID: 2, Kind: models.MessageText, AuthorType: "user", AuthorUserID: &uid, Body: "", DeletedAt: &now, CreatedAt: now},
	}}
	text := TranscriptText(context.Background(), tr, TranscriptOpts{Location: time.UTC, Settings: &models.DeskSettings{}})
	assert.Contains(t, text, "now corrected (edited)")
	assert.Contains(t, text, "message deleted")
	assert.Equal(t, 1, strings.Count(text, "message deleted"), text)
}
