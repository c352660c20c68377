-- +goose Up
-- Private messages (issue 15, item 2): an agent writes to one or more
-- teammates in a customer conversation; only they (and the author) see it.
-- Never the customer, other agents, emails or previews.
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (kind IN ('message', 'note', 'system', 'private'));
ALTER TABLE messages ADD CONSTRAINT messages_private_author_check CHECK (kind <> 'private' OR author_type = 'agent') NOT VALID;

-- Who a private message is for (models.Message.VisibleToUser,
-- userSeesMessageSQL). The author is not listed: they always see their own.
CREATE TABLE message_recipients (
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_recipients_user_idx ON message_recipients (user_id, message_id);

-- A private message does not move conversations.last_message_id (what every
-- agent's unread state compares with): each recipient's own row carries the
-- newest private message to them, so only they see the conversation unread.
ALTER TABLE conversation_users ADD COLUMN last_private_message_id bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversation_users DROP COLUMN last_private_message_id;
DROP TABLE message_recipients;
DELETE FROM messages WHERE kind = 'private';
ALTER TABLE messages DROP CONSTRAINT messages_private_author_check;
ALTER TABLE messages DROP CONSTRAINT messages_kind_check;
ALTER TABLE messages ADD CONSTRAINT messages_kind_check CHECK (kind IN ('message', 'note', 'system'));
