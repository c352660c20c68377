-- +goose Up

-- Full-text search (models/search.go). The search vectors live in their own
-- table, written by the periodic search_index job (jobs/search.go) from the
-- event log, so the message write path computes no tsvector. One row per
-- searchable thing: a message or note (kind 'message', in its conversation's
-- language), a ticket or task (title, description, number) and a customer
-- (name, email), the latter two in the 'simple' configuration.
CREATE TABLE search_documents (
    kind            text        NOT NULL CHECK (kind IN ('message', 'item', 'customer')),
    ref_id          bigint      NOT NULL,
    conversation_id bigint      REFERENCES conversations (id) ON DELETE CASCADE,
    item_id         bigint      REFERENCES items (id) ON DELETE CASCADE,
    customer_id     bigint      REFERENCES customers (id) ON DELETE CASCADE,
    config          regconfig   NOT NULL,
    tsv             tsvector    NOT NULL,
    -- When the thing was written: results come newest first.
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, ref_id),
    CHECK ((kind = 'message') = (conversation_id IS NOT NULL)),
    CHECK ((kind = 'item') = (item_id IS NOT NULL)),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
);
-- One GIN index per kind: a search of customers or items never reads the
-- posting lists of millions of messages.
CREATE INDEX search_documents_message_tsv_idx ON search_documents USING gin (tsv) WHERE kind = 'message';
CREATE INDEX search_documents_item_tsv_idx ON search_documents USING gin (tsv) WHERE kind = 'item';
CREATE INDEX search_documents_customer_tsv_idx ON search_documents USING gin (tsv) WHERE kind = 'customer';
-- Common words walk the newest documents first and stop at a page.
CREATE INDEX search_documents_recent_idx ON search_documents (kind, created_at DESC, ref_id DESC);
-- "Is there a newer match in this conversation": one conversation's documents.
CREATE INDEX search_documents_conversation_idx ON search_documents (conversation_id, created_at DESC, ref_id DESC) WHERE conversation_id IS NOT NULL;

-- How far the indexer has read the event log: every event of a transaction
-- below indexed_xid is indexed; 0 means never run (the first run indexes
-- everything).
CREATE TABLE search_cursor (
    id          smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    indexed_xid bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO search_cursor (id) VALUES (1);

-- The text search configuration of a conversation's language (its BCP 47
-- tag's primary subtag); 'simple' for the rest.
-- +goose StatementBegin
CREATE FUNCTION search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(split_part(split_part(language, '-', 1), '_', 1))
        WHEN 'en' THEN 'english'::regconfig
        WHEN 'pt' THEN 'portuguese'::regconfig
        WHEN 'fr' THEN 'french'::regconfig
        WHEN 'es' THEN 'spanish'::regconfig
        WHEN 'de' THEN 'german'::regconfig
        WHEN 'it' THEN 'italian'::regconfig
        WHEN 'nl' THEN 'dutch'::regconfig
        ELSE 'simple'::regconfig
    END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION search_config(text);
DROP TABLE search_cursor;
DROP TABLE search_documents;
