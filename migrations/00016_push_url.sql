-- +goose Up

-- An agent may push a URL to the customer (models/pushurl.go): a reply whose
-- link_url the widget shows as a prominent card with an Open button.
-- link_opened_at records, once per push, when the customer opened it (the
-- desk then gets a status line). Adding columns with constant defaults
-- rewrites nothing; NOT VALID skips re-reading the table (existing rows hold
-- false and NULL and pass).
ALTER TABLE messages ADD COLUMN link_pushed boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN link_opened_at timestamptz;
ALTER TABLE messages ADD CONSTRAINT messages_link_pushed_check
    CHECK (NOT link_pushed OR (link_url <> '' AND author_type = 'agent')) NOT VALID;
ALTER TABLE messages ADD CONSTRAINT messages_link_opened_check
    CHECK (link_opened_at IS NULL OR link_pushed) NOT VALID;

-- +goose Down
ALTER TABLE messages DROP COLUMN link_opened_at;
ALTER TABLE messages DROP COLUMN link_pushed;
