package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Revision actions (message_revisions.action).
const (
	RevisionEdit   = "edit"
	RevisionDelete = "delete"
)

// MessageRevision is what a message said before an edit or a deletion, and
// who made it: the audit history that admins read from the message's menu
// (CanSeeMessageHistory). Customers never see it.
type MessageRevision struct {
	ID        int64
	MessageID int64
	Action    string
	Body      string
	LinkURL   string
	UserID    *int64
	CreatedAt time.Time

	User *User `gorm:"foreignKey:UserID"`
}

// FindMessage returns message id of conv with its authors; a message of
// another conversation is not found. conv was found for its viewer
// (FindConversationForUser), who may see all its messages.
func FindMessage(ctx context.Context, db *gorm.DB, conv *Conversation, id int64) (*Message, error) {
	var m Message
	err := db.WithContext(ctx).Joins("AuthorUser").Joins("AuthorCustomer").
		Where("messages.id = ? AND messages.conversation_id = ?", id, conv.ID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find message %d: %w", id, err)
	}
	if err := loadRecipients(ctx, db, []*Message{&m}); err != nil {
		return nil, err
	}
	if err := loadFiles(ctx, db, []*Message{&m}); err != nil {
		return nil, err
	}
	if err := loadArticles(ctx, db, []*Message{&m}); err != nil {
		return nil, err
	}
	return &m, nil
}

// FindMessageFor is FindMessage for the staff user u: a private message u
// may not see (Message.VisibleToUser) is not found either, so its menu,
// author card, edit form and history exist only for its author and
// recipients.
func FindMessageFor(ctx context.Context, db *gorm.DB, conv *Conversation, u *User, id int64) (*Message, error) {
	m, err := FindMessage(ctx, db, conv, id)
	if err != nil {
		return nil, err
	}
	if !m.VisibleToUser(u) {
		return nil, ErrNotFound
	}
	return m, nil
}

// EditMessage replaces the body of message id in conv on u's behalf
// (CanChangeMessage: their own, admins any; status lines never: otherwise
// ErrForbidden), keeping what it said in the message's history. Open desks
// and the customer's widget (for a reply) show the new text marked
// "edited"; no one is notified or emailed again, and an email not yet sent
// carries the new text. A body equal to the current one changes nothing.
func EditMessage(ctx context.Context, t Tx, u *User, conv *Conversation, id int64, body string) (*Message, error) {
	return changeMessage(ctx, t, u, conv, id, RevisionEdit, body)
}

// DeleteMessage deletes message id in conv on u's behalf (as EditMessage
// may). The row stays, with its body and link cleared, so threads, paging,
// unread counts and emails stay consistent; every thread shows "message
// deleted" in its place, and only the history keeps what it said. An email
// not yet sent leaves it out.
func DeleteMessage(ctx context.Context, t Tx, u *User, conv *Conversation, id int64) (*Message, error) {
	return changeMessage(ctx, t, u, conv, id, RevisionDelete, "")
}

func changeMessage(ctx context.Context, t Tx, u *User, conv *Conversation, id int64, action, body string) (*Message, error) {
	var out *Message
	err := t.run(ctx, func(tx *gorm.DB) error {
		// The conversation's lock orders this with posts, which move its
		// preview too.
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		var m Message
		err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).
			Where("id = ? AND conversation_id = ?", id, conv.ID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		// A private message exists only for its author and recipients.
		if err := loadRecipients(ctx, tx, []*Message{&m}); err != nil {
			return err
		}
		if !m.VisibleToUser(u) {
			return ErrNotFound
		}
		if !CanChangeMessage(u, &m) {
			return ErrForbidden
		}
		if action == RevisionEdit {
			if body, err = validateBody(body); err != nil {
				return err
			}
			if body == m.Body {
				out = &m
				return nil
			}
		}
		rev := MessageRevision{MessageID: m.ID, Action: action, Body: m.Body, LinkURL: m.LinkURL, UserID: &u.ID}
		if err := tx.Omit(clause.Associations).Select("MessageID", "Action", "Body", "LinkURL", "UserID").Create(&rev).Error; err != nil {
			return err
		}
		updates := map[string]any{"body": body, "edited_at": gorm.Expr("now()")}
		if action == RevisionDelete {
			updates = map[string]any{"body": "", "link_url": "", "deleted_at": gorm.Expr("now()")}
		}
		if err := tx.Model(&Message{}).Where("id = ?", m.ID).Updates(updates).Error; err != nil {
			return err
		}
		if action == RevisionDelete {
			// Its files go with it: removed now, their bytes deleted by the
			// delete_files job this transaction inserts (FilesRemovedEvent).
			if _, err := removeFiles(t, "message_id = ?", m.ID); err != nil {
				return err
			}
		}
		if m.Kind == MessageText {
			// The inbox row's preview shows the newest message's text.
			err := tx.Exec(`UPDATE conversations SET last_message_preview = ? WHERE id = ? AND NOT EXISTS (
				SELECT 1 FROM messages WHERE conversation_id = ? AND kind = ? AND id > ?)`,
				preview(body), conv.ID, conv.ID, MessageText, m.ID).Error
			if err != nil {
				return err
			}
		}
		// Bell entries quoting it quote what it says now (nothing, deleted).
		err = tx.Exec(`UPDATE notifications SET data = jsonb_set(data, '{preview}', to_jsonb(CAST(? AS text)))
			WHERE message_id = ? AND data->>'preview' IS NOT NULL`, preview(body), m.ID).Error
		if err != nil {
			return err
		}
		ev := MessageChangedEvent{Deleted: action == RevisionDelete, ByUserID: u.ID}
		if err := appendEvent(t, Event{ConversationID: &conv.ID, MessageID: &m.ID, Data: ev}); err != nil {
			return err
		}
		out, err = FindMessage(ctx, tx, conv, m.ID)
		return err
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "%s message %d", action, id)
	}
	return out, nil
}

// MessageHistory returns what message m said before each edit and its
// deletion, oldest first, with who changed it: for admins only
// (CanSeeMessageHistory; ErrForbidden otherwise).
func MessageHistory(ctx context.Context, db *gorm.DB, u *User, m *Message) ([]MessageRevision, error) {
	if !CanSeeMessageHistory(u) {
		return nil, ErrForbidden
	}
	var revs []MessageRevision
	if err := db.WithContext(ctx).Preload("User").Where("message_id = ?", m.ID).Order("id").Find(&revs).Error; err != nil {
		return nil, fmt.Errorf("history of message %d: %w", m.ID, err)
	}
	return revs, nil
}
