-- +goose Up

-- Service levels (Admin → Service levels): how long a customer may wait for
-- the first answer in a conversation and for each later one. A team's
-- target applies to its conversations (conversations.team_id); a team
-- without one, and a conversation without a team, use the desk's. NULL: no
-- target.
ALTER TABLE desk_settings ADD COLUMN sla_first_minutes integer CHECK (sla_first_minutes BETWEEN 1 AND 10080);
ALTER TABLE desk_settings ADD COLUMN sla_next_minutes integer CHECK (sla_next_minutes BETWEEN 1 AND 10080);
ALTER TABLE teams ADD COLUMN sla_first_minutes integer CHECK (sla_first_minutes BETWEEN 1 AND 10080);
ALTER TABLE teams ADD COLUMN sla_next_minutes integer CHECK (sla_next_minutes BETWEEN 1 AND 10080);

-- The first agent reply that answered a waiting customer, set by
-- insertMessage's statement (like waiting_since): the first-response clock
-- runs until it is set, the next-response clock after.
ALTER TABLE conversations ADD COLUMN first_response_at timestamptz;
UPDATE conversations c SET first_response_at = r.created_at
FROM (
    SELECT DISTINCT ON (a.conversation_id) a.conversation_id, a.created_at
    FROM messages a
    WHERE a.kind = 'message' AND a.author_type = 'agent' AND EXISTS (
        SELECT 1 FROM messages q WHERE q.conversation_id = a.conversation_id
          AND q.kind = 'message' AND q.author_type = 'customer' AND q.id < a.id)
    ORDER BY a.conversation_id, a.id
) r
WHERE r.conversation_id = c.id AND c.kind = 'customer';

-- One row per breached wait: a wait is (conversation, waiting_since), so a
-- breach is recorded, and announced, once however often the check runs.
CREATE TABLE sla_breaches (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('first', 'next')),
    waiting_since   timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    -- Whose it was when it breached (the report's team; who was told).
    team_id         bigint      REFERENCES teams (id) ON DELETE SET NULL,
    assignee_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sla_breaches_wait_key UNIQUE (conversation_id, waiting_since)
);
CREATE INDEX sla_breaches_due_idx ON sla_breaches (due_at) INCLUDE (team_id);

-- The reports page: customer conversations by day of creation and of
-- closing, covering what the report reads (index-only scans).
CREATE INDEX conversations_created_day_idx ON conversations (created_at) INCLUDE (team_id, first_response_at) WHERE kind = 'customer';
CREATE INDEX conversations_closed_day_idx ON conversations (closed_at) INCLUDE (team_id, created_at) WHERE kind = 'customer' AND closed_at IS NOT NULL;

-- +goose Down
DROP INDEX conversations_closed_day_idx;
DROP INDEX conversations_created_day_idx;
DROP TABLE sla_breaches;
ALTER TABLE conversations DROP COLUMN first_response_at;
ALTER TABLE teams DROP COLUMN sla_next_minutes;
ALTER TABLE teams DROP COLUMN sla_first_minutes;
ALTER TABLE desk_settings DROP COLUMN sla_next_minutes;
ALTER TABLE desk_settings DROP COLUMN sla_first_minutes;
