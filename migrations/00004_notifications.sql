-- +goose Up
-- In-app notifications (the desk's bell) and the auto-close setting.

-- One row per thing a staff user is told about. Rows are written by the
-- notify job from an event of the log (event_id), once per recipient: a
-- retried job inserts nothing twice. Messages are grouped: a user has at
-- most one unread "message" notification per conversation, which is replaced
-- by a newer one carrying the running count (so it moves to the top).
CREATE TABLE notifications (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Why: new_conversation, assigned, message (items add their own reasons).
    reason          text        NOT NULL CHECK (reason ~ '^[a-z][a-z_]{0,39}$'),
    -- What it opens. Nullable so notifications about other things (items) fit.
    conversation_id bigint      REFERENCES conversations (id) ON DELETE CASCADE,
    -- The ticket or task it opens (item reasons).
    item_id         bigint      REFERENCES items (id) ON DELETE CASCADE,
    -- The newest message it tells of (reason message), for grouping and retries.
    message_id      bigint      REFERENCES messages (id) ON DELETE SET NULL,
    -- The event of the log that caused it (events are pruned; ids are never reused).
    event_id        bigint      NOT NULL,
    -- How many messages a grouped notification stands for.
    count           integer     NOT NULL DEFAULT 1 CHECK (count >= 1),
    -- What the entry shows, as it was when it happened: actor, customer, preview…
    data            jsonb       NOT NULL DEFAULT '{}',
    read_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, event_id)
);
-- The bell's list (newest first) and its unread count.
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, id DESC) WHERE read_at IS NULL;
-- Reading a conversation reads its notifications; at most one unread message
-- notification per conversation and user.
CREATE INDEX notifications_conversation_idx ON notifications (conversation_id, user_id);
CREATE UNIQUE INDEX notifications_unread_message_key ON notifications (user_id, conversation_id)
    WHERE read_at IS NULL AND reason = 'message';
-- Pruning old read notifications.
CREATE INDEX notifications_read_at_idx ON notifications (read_at) WHERE read_at IS NOT NULL;

-- Close customer conversations idle for this many minutes (NULL: never).
ALTER TABLE desk_settings ADD COLUMN auto_close_after_minutes integer
    CHECK (auto_close_after_minutes BETWEEN 1 AND 525600);

-- The auto-close job's scan: open customer conversations by last change.
CREATE INDEX conversations_idle_idx ON conversations (updated_at) WHERE kind = 'customer' AND status = 'open';

-- +goose Down
DROP INDEX conversations_idle_idx;
ALTER TABLE desk_settings DROP COLUMN auto_close_after_minutes;
DROP TABLE notifications;
