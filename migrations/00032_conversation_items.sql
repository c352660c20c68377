-- +goose Up

-- More than one item per conversation (issue 10 item 6): a conversation may
-- be linked to several tickets and tasks, an item to several conversations
-- (models/item_link.go). The link rows replace conversations.item_id.
--
-- Safe on a live database: the table is new, the copy reads the existing
-- links through conversations_item_idx (partial: linked rows only), and no
-- statement rewrites or scans-and-locks conversations. conversations.item_id
-- is deprecated, not dropped: instances still running the previous release
-- during a rolling deploy keep reading and writing it, and the trigger below
-- carries their links and unlinks into conversation_items so none is lost
-- after the copy. A later migration drops the column, its index and the
-- trigger once no such instance can run.
SET LOCAL lock_timeout = '5s';

CREATE TABLE conversation_items (
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    item_id         bigint      NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    linked_by       bigint      REFERENCES users (id) ON DELETE SET NULL,
    linked_at       timestamptz NOT NULL DEFAULT now(),
    -- One link per pair: linking twice is refused (item_conversation_linked).
    PRIMARY KEY (conversation_id, item_id)
);
-- An item's conversations (its page, live updates, involvement).
CREATE INDEX conversation_items_item_idx ON conversation_items (item_id, conversation_id);

INSERT INTO conversation_items (conversation_id, item_id)
SELECT id, item_id FROM conversations WHERE item_id IS NOT NULL
ON CONFLICT DO NOTHING;

COMMENT ON COLUMN conversations.item_id IS 'deprecated by conversation_items (00032); written only by instances of the previous release';

-- +goose StatementBegin
CREATE FUNCTION conversations_item_id_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.item_id IS NOT NULL THEN
        DELETE FROM conversation_items WHERE conversation_id = OLD.id AND item_id = OLD.item_id;
    END IF;
    IF NEW.item_id IS NOT NULL THEN
        INSERT INTO conversation_items (conversation_id, item_id) VALUES (NEW.id, NEW.item_id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- Only a statement that sets item_id to another value fires it: this
-- release never writes the column, so its own writes pay nothing.
CREATE TRIGGER conversations_item_id_mirror AFTER UPDATE OF item_id ON conversations
    FOR EACH ROW WHEN (OLD.item_id IS DISTINCT FROM NEW.item_id) EXECUTE FUNCTION conversations_item_id_mirror();

-- +goose Down
SET LOCAL lock_timeout = '5s';
DROP TRIGGER conversations_item_id_mirror ON conversations;
DROP FUNCTION conversations_item_id_mirror();
-- Back to one item per conversation: the earliest link wins.
UPDATE conversations c SET item_id = l.item_id
FROM (SELECT DISTINCT ON (conversation_id) conversation_id, item_id FROM conversation_items
      ORDER BY conversation_id, linked_at, item_id) l
WHERE c.id = l.conversation_id AND c.item_id IS DISTINCT FROM l.item_id;
UPDATE conversations SET item_id = NULL
WHERE item_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM conversation_items l WHERE l.conversation_id = conversations.id);
COMMENT ON COLUMN conversations.item_id IS NULL;
DROP TABLE conversation_items;
