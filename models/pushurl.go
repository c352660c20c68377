package models

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// SysURLOpened is the desk-only status line saying the customer opened a
// pushed URL (OpenPushedURL); it is not in customerEvents.
const SysURLOpened = "url_opened"

// PushURL sends raw to conv's customer as a pushed URL: a reply whose
// link the widget shows as a prominent card with an Open button (and opens
// at once where the browser allows it). The URL is the reply's text too,
// so the inbox preview, notifications, the customer's email and transcripts
// all say what was sent. Only absolute http(s) URLs are accepted
// (ValidateLinkURL), only in customer conversations; anything else is a
// ValidationError on "url" and stores nothing. key is the composer's
// idempotency key (may be empty), as for PostMessageWithOpts.
func PushURL(ctx context.Context, t Tx, user *User, conv *Conversation, raw, key string) (*Message, error) {
	if user == nil {
		return nil, errors.New("push url: no user")
	}
	if strings.TrimSpace(raw) == "" {
		return nil, Invalid("url", "push_url_required", nil)
	}
	link, err := ValidateLinkURL("url", raw)
	if err != nil {
		return nil, err
	}
	if conv.Kind != KindCustomer {
		return nil, Invalid("url", "push_url_customer_only", nil)
	}
	if !CanSeeConversation(user, conv, true) {
		return nil, ErrNotFound
	}
	msg, err := PostMessageWithOpts(ctx, t, Actor{User: user}, conv, MessageText, link, PostOpts{IdempotencyKey: key, LinkURL: link})
	if err != nil {
		return nil, err
	}
	if msg.Replayed {
		return msg, nil
	}
	err = t.run(ctx, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE messages SET link_pushed = true WHERE id = ?", msg.ID).Error
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "push url in conversation %d", conv.ID)
	}
	msg.LinkPushed = true
	return msg, nil
}

// OpenPushedURL records that v's customer opened the URL pushed in message
// messageID of conv: the first time only, with a status line for the desk
// (SysURLOpened, never shown to the customer), which the desk's streams
// deliver live. It reports whether this call recorded it; opening it again
// changes nothing. A conversation v may not see, or a message that is not a
// push of conv, is ErrNotFound.
func OpenPushedURL(ctx context.Context, t Tx, v *Visitor, conv *Conversation, messageID int64) (bool, error) {
	if v == nil || !v.Sees(conv) {
		return false, ErrNotFound
	}
	opened := false
	err := t.run(ctx, func(tx *gorm.DB) error {
		var urls []string
		// The row lock makes a second, concurrent report wait and then
		// find link_opened_at set: one status line per push.
		err := tx.Raw(`UPDATE messages SET link_opened_at = now()
			WHERE id = ? AND conversation_id = ? AND link_pushed AND link_opened_at IS NULL
			RETURNING link_url`, messageID, conv.ID).Scan(&urls).Error
		if err != nil {
			return err
		}
		if len(urls) == 0 {
			var pushed []bool
			if err := tx.Raw("SELECT link_pushed FROM messages WHERE id = ? AND conversation_id = ?", messageID, conv.ID).Scan(&pushed).Error; err != nil {
				return err
			}
			if len(pushed) == 0 || !pushed[0] {
				return ErrNotFound
			}
			return nil // opened before
		}
		by := ""
		if conv.Customer != nil {
			by = conv.Customer.DisplayName()
		}
		if _, err := insertSystemLine(t, conv, SysURLOpened, JSONMap{"url": urls[0], "by": by, "message": messageID}); err != nil {
			return err
		}
		opened = true
		return nil
	})
	if err != nil {
		return false, wrapUnlessDomain(err, "open pushed url %d in conversation %d", messageID, conv.ID)
	}
	return opened, nil
}
