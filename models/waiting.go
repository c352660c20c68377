package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Waiting levels: how long a customer has waited since their oldest
// unanswered message (Conversation.WaitingSince), against the desk's
// thresholds. LevelNone is a conversation nobody waits on.
const (
	LevelNone  = ""
	LevelGreen = "green"
	LevelAmber = "amber"
	LevelRed   = "red"
)

// MaxWaitingMinutes caps the thresholds (a week).
const MaxWaitingMinutes = 7 * 24 * 60

// WaitingThresholds colour a wait: green before Amber, amber before Red,
// red from Red on.
type WaitingThresholds struct {
	Amber time.Duration
	Red   time.Duration
}

// DefaultWaiting is what a new desk uses (the migration's defaults).
var DefaultWaiting = WaitingThresholds{Amber: 2 * time.Minute, Red: 5 * time.Minute}

// Waiting returns the desk's thresholds.
func (s *DeskSettings) Waiting() WaitingThresholds {
	if s.WaitingRedMinutes <= s.WaitingAmberMinutes {
		return DefaultWaiting // a row read without the columns
	}
	return WaitingThresholds{Amber: time.Duration(s.WaitingAmberMinutes) * time.Minute, Red: time.Duration(s.WaitingRedMinutes) * time.Minute}
}

// Level is the colour of a wait that began at since, as of now (nil: nobody
// waits). now is the caller's, so views and tests decide the clock.
func (w WaitingThresholds) Level(since *time.Time, now time.Time) string {
	if since == nil {
		return LevelNone
	}
	switch d := now.Sub(*since); {
	case d >= w.Red:
		return LevelRed
	case d >= w.Amber:
		return LevelAmber
	}
	return LevelGreen
}

// WaitingInput is what the admin form submits: whole minutes.
type WaitingInput struct {
	Amber string
	Red   string
}

// SetWaitingThresholds stores the waiting thresholds: whole minutes, amber
// from 0, red after amber, at most MaxWaitingMinutes. Anything else is a
// ValidationError on the field at fault and nothing is stored. It records a
// settings event: every instance drops the copy of the settings its pages
// are drawn from (the desk's waiting colours among them) when it hears of it.
func SetWaitingThresholds(ctx context.Context, t Tx, in WaitingInput) error {
	parse := func(field, s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 || n > MaxWaitingMinutes {
			return 0, Invalid(field, "waiting_range", map[string]any{"Max": MaxWaitingMinutes})
		}
		return n, nil
	}
	amber, err := parse("waiting_amber", in.Amber)
	if err != nil {
		return err
	}
	red, err := parse("waiting_red", in.Red)
	if err != nil {
		return err
	}
	if red <= amber {
		return Invalid("waiting_red", "waiting_order", nil)
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Exec("UPDATE desk_settings SET waiting_amber_minutes = ?, waiting_red_minutes = ?, updated_at = now() WHERE id = 1", amber, red).Error
		if err != nil {
			return fmt.Errorf("set waiting thresholds: %w", err)
		}
		return appendEvent(t, Event{Data: SettingsEvent{}})
	})
}

// DeskWaiting returns the desk's waiting thresholds (one small read for the
// desk's lists and tabs).
func DeskWaiting(ctx context.Context, db *gorm.DB) (WaitingThresholds, error) {
	var s DeskSettings
	err := db.WithContext(ctx).Select("waiting_amber_minutes", "waiting_red_minutes").Take(&s, 1).Error
	if err != nil {
		return WaitingThresholds{}, fmt.Errorf("desk waiting thresholds: %w", err)
	}
	return s.Waiting(), nil
}

// TabLimit is how many of an agent's conversations the conversation page
// shows as tabs (Alt+1..9 switches between them).
const TabLimit = 9

// agentTabsRead reads the tabs above u's conversation page (ConversationView
// Tabs), for a viewer who may see customer data: the open customer
// conversations assigned to u, the TabLimit with the newest activity, to
// be put in a stable order (sortTabs: by id, so a tab's number does not
// move as messages arrive).
func agentTabsRead(u *User, dst *[]InboxRow) pipelinedRead {
	return readNamed(dst, `
		`+rowSelect+`
		WHERE c.assignee_id = @me AND c.status = 'open' AND c.kind = 'customer' AND `+visibleToUserAs(true)+`
		ORDER BY c.last_message_at DESC, c.id DESC
		`+limitSQL(TabLimit),
		map[string]any{"me": u.ID})
}

// sortTabs puts tabs in their stable order, by id.
func sortTabs(rows []InboxRow) {
	slices.SortFunc(rows, func(a, b InboxRow) int { return cmp.Compare(a.ID, b.ID) })
}

// IsTab reports whether r belongs among u's tabs (agentTabsRead's condition, less
// the limit).
func IsTab(u *User, r *InboxRow) bool {
	return CanSeeCustomerData(u) && r.Kind == KindCustomer && r.Status == StatusOpen && r.AssigneeID != nil && *r.AssigneeID == u.ID
}
