package models

import (
	"context"
	"strings"

	"gorm.io/gorm"
)

// ExplainUnreadQueries returns EXPLAIN (ANALYZE, BUFFERS) of u's bell count
// and nav unread counts, for the scale benchmark.
func ExplainUnreadQueries(ctx context.Context, db *gorm.DB, u *User) (bell, nav string, err error) {
	explain := func(sql string, args map[string]any) (string, error) {
		var lines []string
		if err := db.WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+sql, args).Scan(&lines).Error; err != nil {
			return "", err
		}
		return strings.Join(lines, "\n"), nil
	}
	args := map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "cap": UnreadCap}
	if bell, err = explain(bellCountSQL, args); err != nil {
		return "", "", err
	}
	nav, err = explain(unreadSetSQL, args)
	return bell, nav, err
}
