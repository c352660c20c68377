package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// FieldComment is a comment in an item's history (CommentOnItem).
const FieldComment = "comment"

// ReasonMentioned: someone mentioned me (@Name) in a comment on a ticket or
// task.
const ReasonMentioned = "item_mentioned"

// MaxCommentChars bounds a comment (the column's CHECK says the same).
const MaxCommentChars = 5000

// CommentOnItem adds u's comment to item's history: internal discussion,
// for staff who may see the item; no customer ever sees it (no status line
// in linked conversations, nothing in any customer-facing rendering). Each
// "@Name" of an active staff user who may see the item mentions them: they
// are recorded (item_mentions) and notified (AudiencesOf), as are the
// item's followers. An empty or oversized comment is a ValidationError on
// "body" and nothing is stored.
func CommentOnItem(ctx context.Context, t Tx, u *User, item *Item, body string) (*ItemActivity, error) {
	body = strings.TrimSpace(body)
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		return nil, Invalid("body", "comment_required", nil)
	case n > MaxCommentChars:
		return nil, Invalid("body", "comment_too_long", map[string]any{"Max": MaxCommentChars})
	}
	var act ItemActivity
	err := t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Raw(`INSERT INTO item_activities (item_id, actor_id, actor_name, field, new_value) VALUES (?, ?, ?, ?, ?) RETURNING *`,
			item.ID, u.ID, u.Name, FieldComment, body).Scan(&act).Error
		if err != nil {
			return fmt.Errorf("comment: %w", err)
		}
		mentioned, err := mentionsIn(tx, item, u, body)
		if err != nil {
			return err
		}
		if len(mentioned) > 0 {
			err := tx.Exec(`INSERT INTO item_mentions (activity_id, user_id) SELECT ?, unnest(CAST(? AS bigint[]))`,
				act.ID, pq.Int64Array(mentioned)).Error
			if err != nil {
				return fmt.Errorf("comment mentions: %w", err)
			}
		}
		if err := touchItem(tx, item); err != nil {
			return err
		}
		// Item pages only: linked conversations' panels show no history.
		return itemEvents(t, item, nil, ItemEvent{Field: FieldComment, ByUserID: u.ID, CommentID: act.ID, Mentioned: mentioned})
	})
	if err != nil {
		return nil, err
	}
	return &act, nil
}

// mentionsIn finds the staff users body mentions: "@" and then the full name
// of an active user (other than the author) who may see the item, matched
// regardless of case and ending at a non-letter. Longer names win ("@Ann
// Lee" is Ann Lee, not Ann).
func mentionsIn(tx *gorm.DB, item *Item, author *User, body string) ([]int64, error) {
	if !strings.Contains(body, "@") {
		return nil, nil
	}
	var users []struct {
		ID   int64
		Name string
	}
	err := tx.Raw(`SELECT u.id, u.name FROM users u, items i WHERE i.id = ? AND u.id <> ? AND u.active AND `+usersSeeItemSQL("u", "i"),
		item.ID, author.ID).Scan(&users).Error
	if err != nil {
		return nil, fmt.Errorf("comment mentions: %w", err)
	}
	slices.SortFunc(users, func(a, b struct {
		ID   int64
		Name string
	}) int {
		return utf8.RuneCountInString(b.Name) - utf8.RuneCountInString(a.Name)
	})
	lower := strings.ToLower(body)
	taken := make([]bool, len(lower))
	var out []int64
	for _, u := range users {
		name := "@" + strings.ToLower(strings.TrimSpace(u.Name))
		if len(name) < 2 {
			continue
		}
		for from := 0; ; {
			i := strings.Index(lower[from:], name)
			if i < 0 {
				break
			}
			i += from
			end := i + len(name)
			r, _ := utf8.DecodeRuneInString(lower[end:])
			if !taken[i] && (end == len(lower) || !(unicode.IsLetter(r) || unicode.IsDigit(r))) {
				for k := i; k < end; k++ {
					taken[k] = true
				}
				out = append(out, u.ID)
				break
			}
			from = i + 1
		}
	}
	slices.Sort(out)
	return out, nil
}
