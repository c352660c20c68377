package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func messageCount(t *testing.T, db *gorm.DB, convID int64) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Model(&models.Message{}).Where("conversation_id = ?", convID).Count(&n).Error)
	return n
}

// A push is only an absolute http(s) URL, only to a customer; anything
// else is a ValidationError on "url" and stores nothing.
func TestPushURLValidation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	for _, tc := range []struct{ raw, code string }{
		{"", "push_url_required"},
		{"   ", "push_url_required"},
		{"javascript:alert(1)", "link_url_invalid"},
		{"JAVASCRIPT:alert(document.cookie)", "link_url_invalid"},
		{"data:text/html,<script>alert(1)</script>", "link_url_invalid"},
		{"https://exa mple.com", "link_url_invalid"},
		{"example.com/path", "link_url_invalid"},
		{"https://", "link_url_invalid"},
		{"https://example.com/\"><script>", "link_url_invalid"},
		{"https://example.com/" + string(make([]byte, models.MaxLinkURL)), "link_url_too_long"},
	} {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PushURL(ctx, tx, agent, conv, tc.raw, "")
		})
		assert.Equal(t, tc.code, fieldCode(t, err, "url"), "%.40q", tc.raw)
	}
	assert.EqualValues(t, 1, messageCount(t, db, conv.ID), "nothing stored")

	// A teammate chat has no customer to push to.
	other := factory.User(t, db, factory.UserOpts{})
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, agent, []int64{other.ID}, "hi")
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PushURL(ctx, tx, agent, internal, "https://example.com", "")
	})
	assert.Equal(t, "push_url_customer_only", fieldCode(t, err, "url"))
	// Staff without customer data rights do not see customer conversations.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PushURL(ctx, tx, other, conv, "https://example.com", "")
	})
	assert.ErrorIs(t, err, models.ErrNotFound)
}

// A pushed URL is a reply the customer sees, marked as a push; its
// opening is recorded once, as a status line the customer never sees.
func TestPushURLOpenedOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	v, cust := factory.Customer(t, db)
	require.NoError(t, db.Model(cust).Update("name", "Chloé").Error)
	cust.Name = "Chloé"
	_, conv, first := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})

	push, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PushURL(ctx, tx, agent, conv, " https://example.com/guide?a=1&b=2 ", "push-key-0001")
	})
	require.NoError(t, err)
	var stored models.Message
	require.NoError(t, db.Take(&stored, push.ID).Error)
	assert.True(t, stored.LinkPushed)
	assert.Equal(t, "https://example.com/guide?a=1&b=2", stored.LinkURL)
	assert.Equal(t, stored.LinkURL, stored.Body)
	assert.Equal(t, models.MessageText, stored.Kind)
	assert.True(t, stored.VisibleToCustomer())
	assert.Nil(t, stored.LinkOpenedAt)
	// A retry with the same key pushes nothing new.
	again, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PushURL(ctx, tx, agent, conv, "https://example.com/guide?a=1&b=2", "push-key-0001")
	})
	require.NoError(t, err)
	assert.Equal(t, push.ID, again.ID)

	open := func(v *models.Visitor, c *models.Conversation, id int64) (bool, error) {
		return factory.Write1(db, func(tx models.Tx) (bool, error) { return models.OpenPushedURL(ctx, tx, v, c, id) })
	}
	conv, err = models.FindConversationForVisitor(ctx, db, v, conv.PublicID)
	require.NoError(t, err)
	// Reported by several tabs at once: one status line.
	var wg sync.WaitGroup
	results := make([]bool, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := open(v, conv, push.ID)
			assert.NoError(t, err)
			results[i] = ok
		}()
	}
	wg.Wait()
	recorded := 0
	for _, ok := range results {
		if ok {
			recorded++
		}
	}
	assert.Equal(t, 1, recorded)
	ok, err := open(v, conv, push.ID)
	require.NoError(t, err)
	assert.False(t, ok, "a second opening changes nothing")

	var lines []models.Message
	require.NoError(t, db.Where("conversation_id = ? AND event = ?", conv.ID, models.SysURLOpened).Find(&lines).Error)
	require.Len(t, lines, 1)
	assert.Equal(t, "Chloé", lines[0].EventData["by"])
	assert.Equal(t, "https://example.com/guide?a=1&b=2", lines[0].EventData["url"])
	assert.False(t, lines[0].VisibleToCustomer(), "desk-only")
	page, err := models.ListMessagesBefore(ctx, db, conv, true, 0, models.MessageLimit)
	require.NoError(t, err)
	for _, m := range page.Messages {
		assert.NotEqual(t, models.SysURLOpened, m.Event, "the customer's thread never shows it")
	}
	require.NoError(t, db.Take(&stored, push.ID).Error)
	assert.NotNil(t, stored.LinkOpenedAt)

	// Not a push, another conversation's message, or another customer: 404.
	_, err = open(v, conv, first.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, err = open(v, conv, push.ID+1000)
	assert.ErrorIs(t, err, models.ErrNotFound)
	stranger, _ := factory.Customer(t, db)
	_, err = open(stranger, conv, push.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	_, other, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	_, err = open(v, other, push.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
}

// A transcript holds what the customer could see, never a note nor a
// desk-only status line, with the session details' first request; only
// customer conversations have one.
func TestLoadTranscript(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Body: "My bike squeaks",
		Session: models.SessionInfo{Language: "fr-FR", Timezone: "Europe/Paris", Browser: "Chrome 120", OS: "Linux"}})
	post := func(kind, body string) {
		_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, kind, body)
		})
		require.NoError(t, err)
	}
	post(models.MessageNote, "internal: refund them")
	post(models.MessageText, "Try some oil")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.Assign(ctx, tx, agent, conv, &agent.ID) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, agent, conv, models.StatusClosed) }))
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PushURL(ctx, tx, agent, conv, "https://example.com/oil", "")
	})
	require.NoError(t, err)

	tr, err := models.LoadTranscript(ctx, db, conv)
	require.NoError(t, err)
	assert.Equal(t, "My bike squeaks", tr.FirstRequest)
	assert.False(t, tr.Truncated)
	var got []string
	for _, m := range tr.Messages {
		assert.True(t, m.InTranscript())
		got = append(got, m.Kind+":"+m.Body+m.Event)
	}
	assert.Equal(t, []string{"message:My bike squeaks", "message:Try some oil", "system:closed", "message:https://example.com/oil"}, got)

	other := factory.User(t, db, factory.UserOpts{})
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, agent, []int64{other.ID}, "hi")
	})
	require.NoError(t, err)
	_, err = models.LoadTranscript(ctx, db, internal)
	assert.ErrorIs(t, err, models.ErrNotFound)
}

// The widget's transcript link works for its visitor and conversation
// until it expires; anything altered or anyone else's is ErrNotFound.
func TestTranscriptLink(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	v, cust := factory.Customer(t, db)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Customer: cust})
	_, other, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	now := time.Now()
	token, err := models.TranscriptLinkToken(ctx, db, v, conv, now.Add(time.Hour))
	require.NoError(t, err)

	got, err := models.OpenTranscriptLink(ctx, db, conv.PublicID, token, now)
	require.NoError(t, err)
	assert.Equal(t, conv.ID, got.ID)

	_, err = models.TranscriptLinkToken(ctx, db, v, other, now.Add(time.Hour))
	assert.ErrorIs(t, err, models.ErrNotFound, "no link to someone else's conversation")
	flip := func(s string) string {
		b := []byte(s)
		if b[len(b)-1] == 'A' {
			b[len(b)-1] = 'B'
		} else {
			b[len(b)-1] = 'A'
		}
		return string(b)
	}
	for name, tc := range map[string]struct {
		pid, token string
		at         time.Time
	}{
		"expired":            {conv.PublicID, token, now.Add(2 * time.Hour)},
		"altered signature":  {conv.PublicID, flip(token), now},
		"another visitor id": {conv.PublicID, "9999" + token[len("1"):], now},
		"other conversation": {other.PublicID, token, now},
		"empty":              {conv.PublicID, "", now},
		"garbage":            {conv.PublicID, "a.b.c", now},
		"bad pid":            {"nope", token, now},
	} {
		_, err := models.OpenTranscriptLink(ctx, db, tc.pid, tc.token, tc.at)
		assert.True(t, errors.Is(err, models.ErrNotFound), "%s: %v", name, err)
	}
	// A visitor that is gone takes its links with it.
	require.NoError(t, db.Exec("DELETE FROM visitors WHERE id = ?", v.ID).Error)
	_, err = models.OpenTranscriptLink(ctx, db, conv.PublicID, token, now)
	assert.ErrorIs(t, err, models.ErrNotFound)
}

func TestTranscriptLocation(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Europe/Paris", models.TranscriptLocation("Europe/Paris", "America/Sao_Paulo").String())
	assert.Equal(t, "America/Sao_Paulo", models.TranscriptLocation("", "America/Sao_Paulo").String())
	assert.Equal(t, "America/Sao_Paulo", models.TranscriptLocation("Mars/Olympus", "America/Sao_Paulo").String())
	assert.Equal(t, "America/Sao_Paulo", models.TranscriptLocation("../../etc/passwd", "America/Sao_Paulo").String())
	assert.Equal(t, "UTC", models.TranscriptLocation("", "").String())
}
