-- +goose Up

-- Teams as queues: a customer conversation belongs to a team (team_id, from
-- 00002) and/or an agent. New conversations are routed to a team by ordered
-- rules and auto-assigned round-robin among the team's online agents below
-- their capacity.

-- Each agent's own availability (online, away: away agents are never
-- auto-assigned) and capacity (open customer conversations they may be
-- auto-assigned at once; 0 = no limit), set by admins.
ALTER TABLE users ADD COLUMN availability text NOT NULL DEFAULT 'away' CHECK (availability IN ('online', 'away'));
ALTER TABLE users ADD COLUMN availability_changed_at timestamptz;
ALTER TABLE users ADD COLUMN capacity integer NOT NULL DEFAULT 0 CHECK (capacity >= 0);

-- The team's round-robin cursor: the agent auto-assigned last. Auto-assign
-- locks the team row (FOR UPDATE) while it picks, so two instances never
-- pick from the same cursor at once.
ALTER TABLE teams ADD COLUMN last_assigned_user_id bigint REFERENCES users (id) ON DELETE SET NULL;

-- Routing rules, first match wins (position ascending). Every condition set
-- must hold; an empty condition is no condition (a rule without any is a
-- catch-all). A deleted team takes its rules with it.
CREATE TABLE routing_rules (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position   integer     NOT NULL,
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    url_match  text        NOT NULL DEFAULT '' CHECK (url_match IN ('', 'contains', 'prefix')),
    url_value  text        NOT NULL DEFAULT '' CHECK (char_length(url_value) <= 2000),
    language   text        NOT NULL DEFAULT '' CHECK (char_length(language) <= 35),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((url_match = '') = (url_value = '')),
    -- Moving a rule swaps two positions in one transaction.
    CONSTRAINT routing_rules_position_key UNIQUE (position) DEFERRABLE INITIALLY DEFERRED
);

-- A team's queue (the inbox's team filter and My teams) and its unassigned
-- part (auto-assign when an agent comes online).
CREATE INDEX conversations_team_idx ON conversations (team_id, status, last_message_at DESC, id DESC)
    WHERE kind = 'customer' AND team_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_team_idx;
DROP TABLE routing_rules;
ALTER TABLE teams DROP COLUMN last_assigned_user_id;
ALTER TABLE users DROP COLUMN capacity;
ALTER TABLE users DROP COLUMN availability_changed_at;
ALTER TABLE users DROP COLUMN availability;
