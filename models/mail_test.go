package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func customerConv(t *testing.T, db *gorm.DB) (*models.Customer, *models.Conversation) {
	t.Helper()
	ctx := context.Background()
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, v.Customer, "Hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	require.NoError(t, db.Take(conv, conv.ID).Error) // its public id
	return v.Customer, conv
}

func TestEmailPrefs(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	u := mkUser(t, db, "ana@example.com", models.RoleAgent)

	p, err := models.GetEmailPrefs(ctx, db, u.ID)
	require.NoError(t, err)
	require.Equal(t, models.DefaultEmailPrefs(u.ID), p)
	require.True(t, p.Wants(models.ReasonMessage))
	require.Equal(t, 5*time.Minute, p.Delay())

	for _, c := range []struct {
		in          models.EmailPrefsInput
		field, code string
	}{
		{models.EmailPrefsInput{Delivery: "weekly"}, "delivery", "delivery_invalid"},
		{models.EmailPrefsInput{Delivery: "digest", DigestMinutes: "0"}, "digest_minutes", "digest_minutes_invalid"},
		{models.EmailPrefsInput{Delivery: "digest", DigestMinutes: "1441"}, "digest_minutes", "digest_minutes_invalid"},
		{models.EmailPrefsInput{Delivery: "digest", DigestMinutes: "ten"}, "digest_minutes", "digest_minutes_invalid"},
	} {
		_, err := models.SaveEmailPrefs(ctx, db, u.ID, c.in)
		require.Equal(t, c.code, fieldCode(t, err, c.field), "%+v", c.in)
	}
	_, err = models.SaveEmailPrefs(ctx, db, u.ID, models.EmailPrefsInput{Assigned: true, Delivery: "immediate", DigestMinutes: "30"})
	require.NoError(t, err)
	p, err = models.GetEmailPrefs(ctx, db, u.ID)
	require.NoError(t, err)
	require.False(t, p.Wants(models.ReasonMessage))
	require.True(t, p.Wants(models.ReasonAssigned))
	require.Equal(t, time.Duration(0), p.Delay())
	_, err = models.SaveEmailPrefs(ctx, db, u.ID, models.EmailPrefsInput{Assigned: true, Delivery: "off"})
	require.NoError(t, err)
	p, _ = models.GetEmailPrefs(ctx, db, u.ID)
	require.False(t, p.Wants(models.ReasonAssigned), "off wins over the reasons")
}

// A chat link opens its conversation for its customer until it expires;
// any change to it, and any other conversation, is ErrNotFound.
func TestChatLink(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	cust, conv := customerConv(t, db)
	_, other := customerConv(t, db)
	now := time.Now()

	tok, err := models.ChatLinkToken(ctx, db, conv, now.Add(time.Hour))
	require.NoError(t, err)
	got, err := models.OpenChatLink(ctx, db, tok, now)
	require.NoError(t, err)
	require.Equal(t, conv.ID, got.ID)
	require.Equal(t, cust.ID, got.Customer.ID)

	_, err = models.OpenChatLink(ctx, db, tok, now.Add(2*time.Hour))
	require.ErrorIs(t, err, models.ErrNotFound, "expired")

	parts := strings.Split(tok, ".")
	bad := []string{
		"", "a.b.c", tok + "x", strings.Replace(tok, conv.PublicID, other.PublicID, 1),
		strings.Join([]string{parts[0], parts[1], parts[2] + "0", parts[3]}, "."),
	}
	otherTok, err := models.ChatLinkToken(ctx, db, other, now.Add(time.Hour))
	require.NoError(t, err)
	op := strings.Split(otherTok, ".")
	bad = append(bad, strings.Join([]string{parts[0], parts[1], parts[2], op[3]}, ".")) // another link's signature
	for _, b := range bad {
		_, err := models.OpenChatLink(ctx, db, b, now)
		require.ErrorIs(t, err, models.ErrNotFound, b)
	}

	vt, c2, err := models.RedeemChatLink(ctx, db, tok, now)
	require.NoError(t, err)
	require.Equal(t, conv.ID, c2.ID)
	v, err := models.FindVisitor(ctx, db, vt)
	require.NoError(t, err)
	require.Equal(t, cust.ID, v.CustomerID, "the new browser is that customer")
}

// The customer's read marker only moves forward, and never past the
// conversation's last message; replies are taken once.
func TestCustomerReplies(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := mkUser(t, db, "ana@example.com", models.RoleAgent)
	require.NoError(t, db.Model(agent).Update("customer_support", true).Error)
	agent.CustomerSupport = true
	_, conv := customerConv(t, db)
	var ids []int64
	for _, body := range []string{"One", "Two", "Three"} {
		m, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, body)
		})
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	_, err := factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageNote, "internal")
	})
	require.NoError(t, err)

	moved, err := models.MarkCustomerRead(ctx, db, conv, ids[0])
	require.NoError(t, err)
	require.True(t, moved)
	moved, err = models.MarkCustomerRead(ctx, db, conv, ids[0]-1)
	require.NoError(t, err)
	require.False(t, moved, "never backwards")

	var r *models.CustomerReplies
	require.NoError(t, db.Transaction(func(tx *gorm.DB) (err error) {
		r, err = models.TakeCustomerReplies(ctx, tx, conv.ID)
		return err
	}))
	require.Len(t, r.Messages, 2, "the first was read; the note is not a reply")
	require.Equal(t, "Two", r.Messages[0].Body)
	require.Equal(t, "ana@example.com", r.Messages[1].AuthorUser.Name)
	require.NoError(t, db.Transaction(func(tx *gorm.DB) (err error) {
		r, err = models.TakeCustomerReplies(ctx, tx, conv.ID)
		return err
	}))
	require.Empty(t, r.Messages, "taken once")

	moved, err = models.MarkCustomerRead(ctx, db, conv, 1<<40)
	require.NoError(t, err)
	require.True(t, moved)
	var read, last int64
	require.NoError(t, db.Raw(`SELECT customer_last_read_message_id, last_message_id FROM conversations WHERE id = ?`, conv.ID).Row().Scan(&read, &last))
	require.Equal(t, last, read, "capped at the last message")
}

func TestPruneEmailRecords(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	require.NoError(t, models.RecordEmailDelivery(ctx, db, "old", "agent", "a@example.com", "<1@x>", 1))
	require.NoError(t, models.RecordEmailDelivery(ctx, db, "new", "agent", "a@example.com", "<2@x>", 2))
	require.NoError(t, db.Exec(`UPDATE email_deliveries SET sent_at = now() - interval '8 days' WHERE key = 'old'`).Error)
	n, err := models.PruneEmailRecords(ctx, db, 7*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	done, err := models.EmailDelivered(ctx, db, "new")
	require.NoError(t, err)
	require.True(t, done)
	done, err = models.EmailDelivered(ctx, db, "old")
	require.NoError(t, err)
	require.False(t, done)
}

// An agent's digest mentions a teammate chat only while they are a member
// (CanSeeConversation): the query once let through every internal
// conversation, so someone removed from a chat, or never in it, would still
// have been emailed its messages.
func TestAgentDigestRespectsMembership(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkUser(t, db, "ann@example.com", models.RoleAgent)
	bob := mkUser(t, db, "bob@example.com", models.RoleAgent)
	eve := mkUser(t, db, "eve@example.com", models.RoleAgent)
	conv, msg, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ann, []int64{bob.ID}, "between us")
	})
	require.NoError(t, err)
	pend := func(u *models.User, event int64) {
		require.NoError(t, db.Exec(`INSERT INTO email_pending (user_id, event_id, reason, conversation_id, message_id)
			VALUES (?, ?, 'message', ?, ?)`, u.ID, event, conv.ID, msg.ID).Error)
	}
	take := func(u *models.User) []models.DigestItem {
		var items []models.DigestItem
		require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
			items, err = models.TakeAgentDigest(ctx, tx, u)
			return err
		}))
		return items
	}

	pend(bob, 1)
	require.Len(t, take(bob), 1, "a member is told")

	pend(eve, 2)
	require.Empty(t, take(eve), "never a member")

	pend(bob, 3)
	require.NoError(t, db.Exec("UPDATE conversation_users SET member = false WHERE conversation_id = ? AND user_id = ?", conv.ID, bob.ID).Error)
	require.Empty(t, take(bob), "no longer a member")
}
