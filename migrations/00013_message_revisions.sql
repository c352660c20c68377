-- +goose Up

-- Per-message menu: staff edit and delete messages and notes (their own;
-- admins any). A message keeps its row, so threads, keyset paging, unread
-- counts and email bookkeeping stay as they were: an edit replaces the body
-- and stamps edited_at, a deletion clears body and link and stamps
-- deleted_at ("message deleted" in its place). What was there before each
-- change is kept in message_revisions, which only admins read
-- (models/message_edit.go).
ALTER TABLE messages ADD COLUMN edited_at timestamptz;
ALTER TABLE messages ADD COLUMN deleted_at timestamptz;
-- A deleted message has no text; a live one still needs some (status lines
-- have none).
ALTER TABLE messages DROP CONSTRAINT messages_check1;
ALTER TABLE messages ADD CONSTRAINT messages_body_present
    CHECK (kind = 'system' OR deleted_at IS NOT NULL OR length(btrim(body)) > 0);
ALTER TABLE messages ADD CONSTRAINT messages_deleted_empty
    CHECK (deleted_at IS NULL OR (body = '' AND link_url = ''));

CREATE TABLE message_revisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  bigint      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- edit: body and link_url are what the message said before the edit;
    -- delete: what it said when it was deleted.
    action      text        NOT NULL CHECK (action IN ('edit', 'delete')),
    body        text        NOT NULL CHECK (length(body) <= 10000),
    link_url    text        NOT NULL DEFAULT '',
    user_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX message_revisions_message_idx ON message_revisions (message_id, id);

-- +goose Down
DROP TABLE message_revisions;
ALTER TABLE messages DROP CONSTRAINT messages_deleted_empty;
ALTER TABLE messages DROP CONSTRAINT messages_body_present;
ALTER TABLE messages ADD CONSTRAINT messages_check1 CHECK (kind = 'system' OR length(btrim(body)) > 0);
ALTER TABLE messages DROP COLUMN deleted_at;
ALTER TABLE messages DROP COLUMN edited_at;
