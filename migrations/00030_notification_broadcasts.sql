-- +goose Up

-- Broadcast notifications (models/notification.go): a new customer
-- conversation is one row for all support agents (user_id NULL), not one row
-- per agent. Each agent's state of a broadcast is derived on read:
--   * a per-user row (user_id, broadcast_id) once the agent was shown the
--     entry in the list, marked it or opened the conversation; its id is
--     derived from (broadcast, user) (models.broadcastEntryID), so an entry
--     keeps one id whether or not its row exists yet;
--   * otherwise users.notify_read_upto: broadcasts at or below it are read
--     (mark all read moves it; reading moves it over what the agent handled).
ALTER TABLE notifications ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN broadcast_id bigint REFERENCES notifications (id) ON DELETE CASCADE;
-- A pruned per-user row of a broadcast that is still kept: the entry stays
-- gone for that user instead of coming back unread.
ALTER TABLE notifications ADD COLUMN dismissed boolean NOT NULL DEFAULT false;
ALTER TABLE notifications ADD CONSTRAINT notifications_broadcast_shape CHECK (
    (user_id IS NULL AND broadcast_id IS NULL) OR user_id IS NOT NULL);

-- A retried notify job adds no second broadcast for the same event (what
-- UNIQUE (user_id, event_id) does for per-user rows).
CREATE UNIQUE INDEX notifications_broadcast_event_key ON notifications (event_id) WHERE user_id IS NULL;
-- The bell's broadcast part: broadcasts above an agent's watermark.
CREATE INDEX notifications_broadcast_idx ON notifications (id) WHERE user_id IS NULL;
-- Per-user rows of a broadcast (ON DELETE CASCADE from the broadcast).
CREATE INDEX notifications_broadcast_id_idx ON notifications (broadcast_id) WHERE broadcast_id IS NOT NULL;
-- The list orders a broadcast's per-user row by the broadcast's place.
CREATE INDEX notifications_user_order_idx ON notifications (user_id, (COALESCE(broadcast_id, id)) DESC)
    WHERE user_id IS NOT NULL AND NOT dismissed;

-- Broadcasts up to this id count as read for the user (unless their own row
-- says otherwise). A new user starts past every existing notification.
ALTER TABLE users ADD COLUMN notify_read_upto bigint NOT NULL
    DEFAULT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('notifications', 'id')::regclass), 0);

-- +goose Down
ALTER TABLE users DROP COLUMN notify_read_upto;
DELETE FROM notifications WHERE user_id IS NULL;
DROP INDEX notifications_user_order_idx;
ALTER TABLE notifications DROP CONSTRAINT notifications_broadcast_shape;
ALTER TABLE notifications DROP COLUMN dismissed;
ALTER TABLE notifications DROP COLUMN broadcast_id;
ALTER TABLE notifications ALTER COLUMN user_id SET NOT NULL;
