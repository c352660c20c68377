package main

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// hasItems reports whether this schema has tickets and tasks.
func hasItems(ctx context.Context, db *gorm.DB) bool {
	var ok bool
	db.WithContext(ctx).Raw("SELECT to_regclass('items') IS NOT NULL").Scan(&ok)
	return ok
}

// itemViews lists the Tickets and Tasks lists' common views: the default
// list, each filter the list offers, and the other sorts.
func itemViews(ctx context.Context, db *gorm.DB) []view {
	if !hasItems(ctx, db) {
		return nil
	}
	var ids struct{ Agent, Team int64 }
	db.WithContext(ctx).Raw(`SELECT (SELECT id FROM users WHERE email = 'agent2@bench.example') AS agent,
		(SELECT min(id) FROM teams) AS team`).Scan(&ids)
	return []view{
		{"Tickets · default", "/tickets", "after"},
		{"Tickets · open ones", "/tickets?status=open_ones", "after"},
		{"Tickets · status new", "/tickets?status=new", "after"},
		{"Tickets · mine", "/tickets?mine=1", "after"},
		{"Tickets · assignee", fmt.Sprintf("/tickets?assignee=%d", ids.Agent), "after"},
		{"Tickets · team", fmt.Sprintf("/tickets?team=%d", ids.Team), "after"},
		{"Tickets · priority urgent", "/tickets?priority=urgent", "after"},
		{"Tickets · overdue", "/tickets?overdue=1", "after"},
		{"Tickets · open ones by due date", "/tickets?status=open_ones&sort=due", "after"},
		{"Tickets · by priority", "/tickets?sort=priority", "after"},
		{"Tickets · by number", "/tickets?sort=number", "after"},
		{"Tasks · default", "/tasks", "after"},
		{"Tasks · mine, to do", "/tasks?mine=1&status=todo", "after"},
	}
}

// itemsSeeded reports whether the items are seeded.
func itemsSeeded(ctx context.Context, db *gorm.DB, o options) bool {
	if !hasItems(ctx, db) {
		return true
	}
	var n int
	db.WithContext(ctx).Raw("SELECT count(*) FROM items").Scan(&n)
	return n == o.items
}

// seedItems seeds tickets (70%) and tasks: statuses spread over every state,
// one in ten urgent, four in five assigned, half with a team, two in five
// with a due date (some past), each ticket requested by a customer and
// linked from one conversation (half of the conversations), a creation
// entry in each item's history, and the bench viewer following 500 items.
func seedItems(ctx context.Context, db *gorm.DB, o options) error {
	if !hasItems(ctx, db) {
		return nil
	}
	tickets := o.items * 7 / 10
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"items", `
			WITH b AS (SELECT (SELECT min(id) FROM customers) AS c0, (SELECT count(*) FROM customers) AS nc,
			                  (SELECT min(id) FROM users) AS u0, (SELECT count(*) FROM users) AS nu,
			                  (SELECT min(id) FROM teams) AS t0)
			INSERT INTO items (kind, number, title, description, status, priority, assignee_id, team_id,
			                   requester_id, created_by, due_on, created_at, updated_at)
			SELECT s.kind, s.n, initcap(s.kind) || ' ' || s.n || ': parcel lost between the depot and the customer',
			       'Customer reports the parcel never arrived.',
			       CASE WHEN s.kind = 'ticket' THEN (ARRAY['new','open','in_progress','waiting','resolved','closed'])[1 + g % 6]
			            ELSE (ARRAY['todo','in_progress','done'])[1 + g % 3] END,
			       (ARRAY['low','normal','normal','normal','normal','high','high','normal','low','urgent'])[1 + g % 10],
			       CASE WHEN g % 5 = 0 THEN NULL ELSE b.u0 + (g / 5) % b.nu END,
			       CASE WHEN g % 2 = 0 THEN b.t0 + (g / 2) % 5 END,
			       CASE WHEN s.kind = 'ticket' THEN b.c0 + g % b.nc END,
			       b.u0 + (g / 3) % b.nu,
			       CASE WHEN g % 5 < 2 THEN (now() - g * interval '31 seconds')::date + (g % 21) - 7 END,
			       now() - g * interval '31 seconds', now() - g * interval '29 seconds'
			FROM b, generate_series(1, ?) g,
			     LATERAL (SELECT CASE WHEN g <= ? THEN 'ticket' ELSE 'task' END AS kind,
			                     CASE WHEN g <= ? THEN g ELSE g - ? END AS n) s`, []any{o.items, tickets, tickets, tickets}},
		{"item counters", `UPDATE item_counters k SET last_number = COALESCE((SELECT max(number) FROM items i WHERE i.kind = k.kind), 0)`, nil},
		{"item history", `INSERT INTO item_activities (item_id, actor_id, actor_name, field, created_at)
			SELECT i.id, i.created_by, u.name, 'created', i.created_at FROM items i LEFT JOIN users u ON u.id = i.created_by`, nil},
		{"item links", `INSERT INTO conversation_items (conversation_id, item_id, linked_at)
			SELECT c.id, i.id, c.created_at FROM conversations c
			JOIN items i ON i.kind = 'ticket' AND i.number = 1 + (c.id / 2) % ?
			WHERE c.id % 2 = 0`, []any{max(1, tickets)}},
		{"item followers", `INSERT INTO item_followers (item_id, user_id)
			SELECT i.id, u.id FROM users u, items i WHERE u.email = 'agent1@bench.example' AND i.id % 200 = 0`, nil},
		// What linking, assigning and following keep up (models.syncItemInvolvement).
		{"involvement", `INSERT INTO conversation_users (conversation_id, user_id, via_item)
			SELECT DISTINCT l.conversation_id, x.user_id, true FROM conversation_items l JOIN items i ON i.id = l.item_id
			CROSS JOIN LATERAL (SELECT i.assignee_id AS user_id WHERE i.assignee_id IS NOT NULL
			                    UNION SELECT i.created_by WHERE i.created_by IS NOT NULL
			                    UNION SELECT f.user_id FROM item_followers f WHERE f.item_id = i.id) x
			ON CONFLICT (conversation_id, user_id) DO UPDATE SET via_item = true`, nil},
	}
	for _, s := range steps {
		t := time.Now()
		if err := db.WithContext(ctx).Exec(s.sql, s.args...).Error; err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		fmt.Printf("parley-listbench: seeded %-14s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	return nil
}
