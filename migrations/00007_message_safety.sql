-- +goose Up
-- Hardening of the message paths (issue 16): retried posts stored once,
-- chat links scoped to their conversation, auto-close only where the team
-- answered last.

-- A client-generated key per composed message, kept across retries: a post
-- whose commit was not acknowledged and is sent again finds its message
-- instead of storing a second one. Keys are unique per author (a customer's
-- first message has no conversation yet when it is sent).
ALTER TABLE messages ADD COLUMN idempotency_key text
    CHECK (idempotency_key IS NULL OR length(idempotency_key) BETWEEN 8 AND 100);
CREATE UNIQUE INDEX messages_customer_idempotency_key ON messages (author_customer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND author_customer_id IS NOT NULL;
CREATE UNIQUE INDEX messages_user_idempotency_key ON messages (author_user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND author_user_id IS NOT NULL;

-- A visitor started by an emailed chat link sees and writes in that one
-- conversation only (NULL: a browser of its own, which sees all of its
-- customer's conversations).
ALTER TABLE visitors ADD COLUMN conversation_id bigint REFERENCES conversations (id) ON DELETE CASCADE;
CREATE INDEX visitors_conversation_id_idx ON visitors (conversation_id) WHERE conversation_id IS NOT NULL;

-- The auto-close scan reads only conversations waiting on the customer:
-- waiting_since is NULL exactly when the last public message is the
-- team's (models.insertMessage keeps it; notes and status lines leave it).
DROP INDEX conversations_idle_idx;
CREATE INDEX conversations_idle_idx ON conversations (updated_at)
    WHERE kind = 'customer' AND status = 'open' AND waiting_since IS NULL;

-- +goose Down
DROP INDEX conversations_idle_idx;
CREATE INDEX conversations_idle_idx ON conversations (updated_at) WHERE kind = 'customer' AND status = 'open';
DROP INDEX visitors_conversation_id_idx;
ALTER TABLE visitors DROP COLUMN conversation_id;
DROP INDEX messages_user_idempotency_key;
DROP INDEX messages_customer_idempotency_key;
ALTER TABLE messages DROP COLUMN idempotency_key;
