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

-- Unread counts of "My conversations" (models/inbox.go unreadMine): each
-- row of conversation_users carries its conversation's last_message_id, so
-- the rows behind it (unread) are one partial index range per user, however
-- many conversations the user ever wrote in, followed or joined.
ALTER TABLE conversation_users ADD COLUMN conv_last_message_id bigint NOT NULL DEFAULT 0;
UPDATE conversation_users r SET conv_last_message_id = c.last_message_id
    FROM conversations c WHERE c.id = r.conversation_id AND c.last_message_id <> 0;

-- +goose StatementBegin
CREATE FUNCTION conversation_users_conv_last_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'conversation_users' THEN
        SELECT c.last_message_id INTO NEW.conv_last_message_id FROM conversations c WHERE c.id = NEW.conversation_id;
        NEW.conv_last_message_id := COALESCE(NEW.conv_last_message_id, 0);
        RETURN NEW;
    END IF;
    UPDATE conversation_users SET conv_last_message_id = NEW.last_message_id
        WHERE conversation_id = NEW.id AND conv_last_message_id <> NEW.last_message_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER conversation_users_conv_last_message BEFORE INSERT ON conversation_users
    FOR EACH ROW EXECUTE FUNCTION conversation_users_conv_last_message();
CREATE TRIGGER conversations_last_message_to_users AFTER UPDATE OF last_message_id ON conversations
    FOR EACH ROW WHEN (NEW.last_message_id <> OLD.last_message_id)
    EXECUTE FUNCTION conversation_users_conv_last_message();
CREATE INDEX conversation_users_unread_idx ON conversation_users (user_id, conversation_id)
    WHERE (member OR participated OR following OR via_item)
      AND (conv_last_message_id > last_read_message_id OR last_private_message_id > last_read_message_id);

-- +goose Down
DROP INDEX conversation_users_unread_idx;
DROP TRIGGER conversations_last_message_to_users ON conversations;
DROP TRIGGER conversation_users_conv_last_message ON conversation_users;
DROP FUNCTION conversation_users_conv_last_message();
ALTER TABLE conversation_users DROP COLUMN conv_last_message_id;
ALTER TABLE users DROP COLUMN notify_read_upto;
DELETE FROM notifications WHERE user_id IS NULL;
DROP INDEX notifications_user_order_idx;
DROP INDEX notifications_broadcast_id_idx;
DROP INDEX notifications_broadcast_idx;
DROP INDEX notifications_broadcast_event_key;
ALTER TABLE notifications DROP CONSTRAINT notifications_broadcast_shape;
ALTER TABLE notifications DROP COLUMN dismissed;
ALTER TABLE notifications DROP COLUMN broadcast_id;
ALTER TABLE notifications ALTER COLUMN user_id SET NOT NULL;
