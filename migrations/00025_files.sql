-- +goose Up

-- Files in conversations (issue 14): what the desk allows, and the files
-- themselves. The bytes live in the configured storage (the data directory,
-- or an S3-compatible bucket) under storage_key; this row is the record.

-- Per-desk limits (Admin → Conversations → Files): the largest file, the
-- kinds of file allowed (models.FileCategories), how many files one message
-- carries, and how long files are kept (NULL: for ever).
ALTER TABLE desk_settings
    ADD COLUMN file_max_bytes       bigint  NOT NULL DEFAULT 26214400
        CHECK (file_max_bytes BETWEEN 1024 AND 1073741824),
    ADD COLUMN file_types           text[]  NOT NULL DEFAULT '{image,audio,video,pdf,text,document,archive}'
        CHECK (file_types <@ '{image,audio,video,pdf,text,document,archive,other}'::text[]),
    ADD COLUMN files_per_message    integer NOT NULL DEFAULT 5 CHECK (files_per_message BETWEEN 1 AND 20),
    ADD COLUMN file_retention_days  integer CHECK (file_retention_days BETWEEN 1 AND 36500);

-- A message may be files alone, without text.
ALTER TABLE messages ADD COLUMN has_files boolean NOT NULL DEFAULT false;
ALTER TABLE messages DROP CONSTRAINT messages_body_present;
ALTER TABLE messages ADD CONSTRAINT messages_body_present
    CHECK (kind = 'system' OR deleted_at IS NOT NULL OR has_files OR length(btrim(body)) > 0);

-- One uploaded file. An upload is pending (message_id NULL) until the
-- message it goes with is posted by its uploader; a pending file nobody
-- sent is removed after a day. deleted_at marks a file removed (its message
-- deleted, retention, an abandoned upload): from then on nobody may
-- download it, and the delete_files job removes its bytes (purged_at).
CREATE TABLE files (
    id                   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id            uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    conversation_id      bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id           bigint      REFERENCES messages (id) ON DELETE SET NULL,
    uploader_user_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    uploader_customer_id bigint      REFERENCES customers (id) ON DELETE SET NULL,
    storage_key          text        NOT NULL UNIQUE CHECK (storage_key ~ '^[a-z0-9/]{8,100}$'),
    name                 text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    content_type         text        NOT NULL,
    category             text        NOT NULL
        CHECK (category IN ('image', 'audio', 'video', 'pdf', 'text', 'document', 'archive', 'other')),
    size                 bigint      NOT NULL CHECK (size > 0),
    sha256               text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    purged_at            timestamptz,
    CHECK ((uploader_user_id IS NULL) OR (uploader_customer_id IS NULL)),
    CHECK (purged_at IS NULL OR deleted_at IS NOT NULL)
);
-- A message's files (every thread render loads them by message).
CREATE INDEX files_message_idx ON files (message_id, id) WHERE message_id IS NOT NULL;
-- Pending uploads, oldest first (the sweep removes abandoned ones).
CREATE INDEX files_pending_idx ON files (created_at) WHERE message_id IS NULL AND deleted_at IS NULL;
-- Live files, oldest first (retention), and their total (storage use).
CREATE INDEX files_live_idx ON files (created_at) WHERE deleted_at IS NULL;
-- Removed files whose bytes are still stored (the delete job's backlog).
CREATE INDEX files_unpurged_idx ON files (id) WHERE deleted_at IS NOT NULL AND purged_at IS NULL;
-- A customer's files (erasure on request).
CREATE INDEX files_customer_idx ON files (uploader_customer_id) WHERE uploader_customer_id IS NOT NULL;

-- +goose Down
DROP TABLE files;
UPDATE messages SET body = '📎' WHERE has_files AND deleted_at IS NULL AND length(btrim(body)) = 0 AND kind <> 'system';
ALTER TABLE messages DROP CONSTRAINT messages_body_present;
ALTER TABLE messages ADD CONSTRAINT messages_body_present
    CHECK (kind = 'system' OR deleted_at IS NOT NULL OR length(btrim(body)) > 0);
ALTER TABLE messages DROP COLUMN has_files;
ALTER TABLE desk_settings
    DROP COLUMN file_max_bytes,
    DROP COLUMN file_types,
    DROP COLUMN files_per_message,
    DROP COLUMN file_retention_days;
