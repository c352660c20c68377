package models

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// refRe reads an item reference as people type it: "T-1042", "t1042",
// "#1042" or just "1042".
var refRe = regexp.MustCompile(`^(?i)([tk])?-?#?(\d{1,18})$`)

// ParseItemRef reads a reference like T-1042; kind is "" when only a number
// was given.
func ParseItemRef(s string) (kind string, number int64, ok bool) {
	m := refRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	switch strings.ToUpper(m[1]) {
	case "T":
		kind = ItemTicket
	case "K":
		kind = ItemTask
	}
	return kind, n, true
}

// ParseItemRefFor reads a reference as u means it (ParseItemRef): a bare
// number is a ticket for those who may see tickets, a task for everyone
// else.
func ParseItemRefFor(u *User, s string) (kind string, number int64, ok bool) {
	kind, number, ok = ParseItemRef(s)
	if ok && kind == "" {
		kind = ItemTask
		if CanSeeItems(u, ItemTicket) {
			kind = ItemTicket
		}
	}
	return kind, number, ok
}

// FindItem returns the item of kind with number, with its people, if u may
// see it; otherwise ErrNotFound.
func FindItem(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*Item, error) {
	if !CanSeeItems(u, kind) {
		return nil, ErrNotFound
	}
	var it Item
	err := db.WithContext(ctx).Joins("Assignee").Joins("Team").Joins("Requester").Joins("Creator").
		Where("items.kind = ? AND items.number = ?", kind, number).Take(&it).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find item: %w", err)
	}
	return &it, nil
}

// SearchItems finds items u may see by reference ("T-1042", "1042") or by
// words of their title, most recently updated first.
func SearchItems(ctx context.Context, db *gorm.DB, u *User, query string, limit int) ([]Item, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	// One ordered, limited search per kind, merged: each can walk its
	// kind's recently-updated index and stop early when the words are
	// common, or use the title's trigram index when they are rare.
	var parts []string
	args := map[string]any{"pattern": "%" + escapeLike(query) + "%", "limit": limit}
	match := "title ILIKE @pattern"
	if kind, n, ok := ParseItemRef(query); ok {
		args["number"] = n
		match = "(number = @number OR title ILIKE @pattern)"
		if kind != "" {
			args["refkind"] = kind
			match = "(kind = @refkind AND number = @number)"
		}
	}
	for _, k := range []string{ItemTicket, ItemTask} {
		if CanSeeItems(u, k) {
			parts = append(parts, `(SELECT * FROM items WHERE kind = '`+k+`' AND `+match+` ORDER BY updated_at DESC, id DESC LIMIT @limit)`)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	var out []Item
	err := db.WithContext(ctx).Raw(`SELECT * FROM (`+strings.Join(parts, " UNION ALL ")+`) s ORDER BY updated_at DESC, id DESC LIMIT @limit`, args).
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	return out, nil
}

// escapeLike quotes LIKE's wildcards so a search matches them literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
