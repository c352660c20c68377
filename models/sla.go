package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Service levels: how long a waiting customer may wait for an answer. The
// first-response target runs until the conversation's first agent reply
// (Conversation.FirstResponseAt), the next-response target for every wait
// after. A wait is the one waiting.go measures (Conversation.WaitingSince:
// the customer's oldest unanswered message), so notes and status lines do
// not stop the clock, and an answer stops it.
const (
	SLAFirst = "first"
	SLANext  = "next"
)

// EventSLABreach: a waiting customer's service-level target passed
// (Event.ConversationID; SLABreachEvent). It is recorded once per wait
// (RecordBreaches), and notifies the assignee and the team (AudienceOf).
const EventSLABreach = "sla_breach"

// EventSLATargets: an admin changed the service-level targets (SetSLATargets).
const EventSLATargets = "sla_targets"

// ReasonSLABreach: a conversation assigned to me or my team breached its
// service-level target.
const ReasonSLABreach = "sla_breach"

// MaxSLAMinutes caps a target (a week, like the waiting thresholds).
const MaxSLAMinutes = 7 * 24 * 60

// SLABreachEvent is the payload of EventSLABreach: which breach, of which
// target, and whose conversation it was at that moment.
type SLABreachEvent struct {
	BreachID   int64     `json:"breach_id"`
	Target     string    `json:"target"` // SLAFirst or SLANext
	TeamID     *int64    `json:"team_id,omitempty"`
	AssigneeID *int64    `json:"assignee_id,omitempty"`
	DueAt      time.Time `json:"due_at"`
}

// Kind implements EventData.
func (SLABreachEvent) Kind() string { return EventSLABreach }

// SLATargetsEvent is the payload of EventSLATargets: ByUserID set the
// targets of TeamID (nil: the desk's default).
type SLATargetsEvent struct {
	TeamID   *int64 `json:"team_id,omitempty"`
	ByUserID int64  `json:"by_user_id,omitempty"`
	First    *int   `json:"first,omitempty"`
	Next     *int   `json:"next,omitempty"`
}

// Kind implements EventData.
func (SLATargetsEvent) Kind() string { return EventSLATargets }

// SLATargets are the two targets in force for a conversation (0: none).
type SLATargets struct {
	First time.Duration
	Next  time.Duration
}

// SLAPolicy is every target of the desk: its default and each team's own
// (a team's unset target falls back to the desk's).
type SLAPolicy struct {
	Desk  SLAMinutes
	Teams map[int64]SLAMinutes
}

// SLAMinutes are targets as stored: whole minutes, nil for none.
type SLAMinutes struct {
	First *int
	Next  *int
}

func minutes(p *int) time.Duration {
	if p == nil {
		return 0
	}
	return time.Duration(*p) * time.Minute
}

// For returns the targets of a conversation of team (nil: no team).
func (p SLAPolicy) For(team *int64) SLATargets {
	m := p.Desk
	if team != nil {
		if t, ok := p.Teams[*team]; ok {
			if t.First != nil {
				m.First = t.First
			}
			if t.Next != nil {
				m.Next = t.Next
			}
		}
	}
	return SLATargets{First: minutes(m.First), Next: minutes(m.Next)}
}

// SLAClock is a waiting conversation's running target: which one, and when
// it is due.
type SLAClock struct {
	Target string // SLAFirst or SLANext
	Limit  time.Duration
	Due    time.Time
}

// Left is the time left at now (negative: overdue by that much).
func (c SLAClock) Left(now time.Time) time.Duration { return c.Due.Sub(now) }

// Breached reports whether the target has passed at now.
func (c SLAClock) Breached(now time.Time) bool { return !now.Before(c.Due) }

// Clock returns conv's running service-level clock: only an open customer
// conversation whose customer waits, with a target for that wait, has one.
func (p SLAPolicy) Clock(conv *Conversation) (SLAClock, bool) {
	if conv == nil || conv.Kind != KindCustomer || conv.Status != StatusOpen || conv.WaitingSince == nil {
		return SLAClock{}, false
	}
	t := p.For(conv.TeamID)
	c := SLAClock{Target: SLAFirst, Limit: t.First}
	if conv.FirstResponseAt != nil {
		c.Target, c.Limit = SLANext, t.Next
	}
	if c.Limit <= 0 {
		return SLAClock{}, false
	}
	c.Due = conv.WaitingSince.Add(c.Limit)
	return c, true
}

// LoadSLAPolicy reads the desk's and the teams' targets (two small reads,
// once per page or stream).
func LoadSLAPolicy(ctx context.Context, db *gorm.DB) (SLAPolicy, error) {
	var d DeskSettings
	err := db.WithContext(ctx).Select("sla_first_minutes", "sla_next_minutes").Take(&d, 1).Error
	if err != nil {
		return SLAPolicy{Teams: map[int64]SLAMinutes{}}, fmt.Errorf("load service levels: %w", err)
	}
	return SLAPolicyOf(ctx, db, &d)
}

// SLAPolicyOf is LoadSLAPolicy with the desk's targets taken from settings
// already read (a page that reads the settings once for all it shows).
func SLAPolicyOf(ctx context.Context, db *gorm.DB, s *DeskSettings) (SLAPolicy, error) {
	db = db.WithContext(ctx)
	p := SLAPolicy{Teams: map[int64]SLAMinutes{}, Desk: SLAMinutes{First: s.SlaFirstMinutes, Next: s.SlaNextMinutes}}
	var teams []struct {
		ID              int64
		SlaFirstMinutes *int
		SlaNextMinutes  *int
	}
	err := db.Raw("SELECT id, sla_first_minutes, sla_next_minutes FROM teams WHERE sla_first_minutes IS NOT NULL OR sla_next_minutes IS NOT NULL").Scan(&teams).Error
	if err != nil {
		return p, fmt.Errorf("load service levels: %w", err)
	}
	for _, t := range teams {
		p.Teams[t.ID] = SLAMinutes{First: t.SlaFirstMinutes, Next: t.SlaNextMinutes}
	}
	return p, nil
}

// SLAPolicyWith is SLAPolicyOf with the teams' service levels read already
// (TeamOptionsWithSLA).
func SLAPolicyWith(s *DeskSettings, teams map[int64]SLAMinutes) SLAPolicy {
	return SLAPolicy{Teams: teams, Desk: SLAMinutes{First: s.SlaFirstMinutes, Next: s.SlaNextMinutes}}
}

// SLATargetRow is one line of the admin's targets table: the desk's
// default (TeamID 0) or a team.
type SLATargetRow struct {
	TeamID   int64
	TeamName string
	SLAMinutes
}

// ListSLATargets returns the desk's default then every team by name.
func ListSLATargets(ctx context.Context, db *gorm.DB) ([]SLATargetRow, error) {
	p, err := LoadSLAPolicy(ctx, db)
	if err != nil {
		return nil, err
	}
	teams, err := ListTeams(ctx, db)
	if err != nil {
		return nil, err
	}
	out := []SLATargetRow{{SLAMinutes: p.Desk}}
	for _, t := range teams {
		out = append(out, SLATargetRow{TeamID: t.ID, TeamName: t.Name, SLAMinutes: p.Teams[t.ID]})
	}
	return out, nil
}

// SLAInput is what the admin form submits: the team ("" for the desk's
// default) and whole minutes per target ("" for none).
type SLAInput struct {
	Team  string
	First string
	Next  string
}

// SetSLATargets stores the targets of one team or of the desk: whole
// minutes from 1 to MaxSLAMinutes, or empty for none. An unknown team, a
// negative, zero, fractional or oversized target is a ValidationError on
// its field and nothing is stored.
func SetSLATargets(ctx context.Context, t Tx, by *User, in SLAInput) error {
	v := &ValidationError{}
	parse := func(field, s string) *int {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxSLAMinutes {
			v.Add(field, "sla_range", map[string]any{"Max": MaxSLAMinutes})
			return nil
		}
		return &n
	}
	first := parse("sla_first", in.First)
	next := parse("sla_next", in.Next)
	return t.run(ctx, func(tx *gorm.DB) error {
		var team *int64
		if s := strings.TrimSpace(in.Team); s != "" {
			id, err := strconv.ParseInt(s, 10, 64)
			if err == nil && id > 0 {
				var found int64
				if err := tx.Raw("SELECT id FROM teams WHERE id = ? FOR UPDATE", id).Scan(&found).Error; err != nil {
					return fmt.Errorf("set service levels: %w", err)
				}
				if found == id {
					team = &id
				}
			}
			if team == nil {
				v.Add("team", "sla_team_unknown", nil)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		var res *gorm.DB
		if team == nil {
			res = tx.Exec("UPDATE desk_settings SET sla_first_minutes = ?, sla_next_minutes = ?, updated_at = now() WHERE id = 1", first, next)
		} else {
			res = tx.Exec("UPDATE teams SET sla_first_minutes = ?, sla_next_minutes = ?, updated_at = now() WHERE id = ?", first, next, *team)
		}
		if res.Error != nil {
			return fmt.Errorf("set service levels: %w", res.Error)
		}
		ev := SLATargetsEvent{TeamID: team, First: first, Next: next}
		if by != nil {
			ev.ByUserID = by.ID
		}
		return appendEvent(t, Event{Data: ev})
	})
}

// SLABreach is one breached wait (table sla_breaches).
type SLABreach struct {
	ID             int64
	ConversationID int64
	Kind           string
	WaitingSince   time.Time
	DueAt          time.Time
	TeamID         *int64
	AssigneeID     *int64
	CreatedAt      time.Time
}

// slaDueSQL is the moment the running target of conversation c (teams t
// joined on c.team_id, the desk's settings as d) is due; NULL without a
// target. It is SLAPolicy.Clock in SQL.
const slaDueSQL = `c.waiting_since + make_interval(mins => CASE WHEN c.first_response_at IS NULL
	THEN COALESCE(t.sla_first_minutes, d.sla_first_minutes)
	ELSE COALESCE(t.sla_next_minutes, d.sla_next_minutes) END)`

// RecordBreaches records, as of now, every wait that has passed its target
// and was not recorded yet, at most limit of them, each with an
// EventSLABreach (whose follow-up notifies: jobs.FollowUps). It returns the
// breaches recorded; call it again while that is limit.
//
// Exactly once: a breach is keyed by its wait (conversation, waiting_since:
// sla_breaches_wait_key), so concurrent or repeated runs record and
// announce each one once; a new wait after an answer is a new key.
func RecordBreaches(ctx context.Context, t Tx, now time.Time, limit int) ([]SLABreach, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []SLABreach
	err := t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Raw(`
			WITH due AS (
				SELECT c.id, c.team_id, c.assignee_id, c.waiting_since,
				       CASE WHEN c.first_response_at IS NULL THEN 'first' ELSE 'next' END AS kind,
				       `+slaDueSQL+` AS due_at
				FROM conversations c
				CROSS JOIN (SELECT sla_first_minutes, sla_next_minutes FROM desk_settings WHERE id = 1) d
				LEFT JOIN teams t ON t.id = c.team_id
				WHERE c.kind = 'customer' AND c.status = 'open' AND c.waiting_since IS NOT NULL
				  AND NOT EXISTS (SELECT 1 FROM sla_breaches b WHERE b.conversation_id = c.id AND b.waiting_since = c.waiting_since)
			)
			INSERT INTO sla_breaches (conversation_id, kind, waiting_since, due_at, team_id, assignee_id)
			SELECT id, kind, waiting_since, due_at, team_id, assignee_id FROM due
			WHERE due_at <= @now
			ORDER BY due_at, id
			LIMIT @limit
			ON CONFLICT ON CONSTRAINT sla_breaches_wait_key DO NOTHING
			RETURNING *`, map[string]any{"now": now, "limit": limit}).Scan(&out).Error
		if err != nil {
			return err
		}
		for _, b := range out {
			conv := b.ConversationID
			err := appendEvent(t, Event{ConversationID: &conv, Data: SLABreachEvent{
				BreachID: b.ID, Target: b.Kind, TeamID: b.TeamID, AssigneeID: b.AssigneeID, DueAt: b.DueAt}})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record service-level breaches: %w", err)
	}
	return out, nil
}

// slaBreachAudience is who hears of a breach: its conversation's assignee
// and the members of its team (as recorded with the breach), if they are
// still support agents; the conversation must still be theirs to see.
func slaBreachAudience(db *gorm.DB, e Event, b SLABreachEvent) ([]int64, error) {
	var ids []int64
	err := db.Raw(`
		SELECT u.id FROM users u, conversations c
		WHERE c.id = @conv AND c.kind = 'customer' AND `+supportAgentSQL("u")+`
		  AND (u.id = CAST(@assignee AS bigint)
		       OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = CAST(@team AS bigint) AND tm.user_id = u.id))
		ORDER BY u.id`,
		map[string]any{"conv": *e.ConversationID, "assignee": b.AssigneeID, "team": b.TeamID}).Scan(&ids).Error
	return ids, err
}

// FindBreach returns one breach (tests and the notification's text).
func FindBreach(ctx context.Context, db *gorm.DB, id int64) (*SLABreach, error) {
	var b SLABreach
	err := db.WithContext(ctx).Table("sla_breaches").Take(&b, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find breach %d: %w", id, err)
	}
	return &b, nil
}
