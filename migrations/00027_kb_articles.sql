-- +goose Up

-- Knowledge-base articles (models/kb.go): short Markdown texts admins write,
-- in one of the desk's languages, published or draft. Agents send one into a
-- customer conversation; customers open published ones on /help/<slug>.
-- The search vector is a generated column in the article's own language
-- (search_config, migration 00018, is IMMUTABLE): articles number in the
-- hundreds and are written rarely, so the write path may compute it.
CREATE TABLE kb_articles (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 80),
    language    text        NOT NULL CHECK (language IN ('en', 'pt-BR', 'fr')),
    title       text        NOT NULL CHECK (char_length(btrim(title)) BETWEEN 1 AND 150),
    body        text        NOT NULL CHECK (char_length(btrim(body)) BETWEEN 1 AND 20000),
    published   boolean     NOT NULL DEFAULT false,
    search      tsvector    GENERATED ALWAYS AS (
                    setweight(to_tsvector(search_config(language), title), 'A') ||
                    setweight(to_tsvector(search_config(language), body), 'B')) STORED,
    created_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    updated_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- A slug names one article (the public URL); duplicates are a 422 on slug.
CREATE UNIQUE INDEX kb_articles_slug_idx ON kb_articles (slug);
CREATE INDEX kb_articles_search_idx ON kb_articles USING gin (search);
-- The admin list (newest edit first) and the pickers' "recent" list.
CREATE INDEX kb_articles_updated_idx ON kb_articles (updated_at DESC, id DESC);

-- A reply may carry an article (SendArticle). article_sent marks it for good;
-- article_id is the article while it exists (a deleted article leaves the
-- mark and a NULL id, and the card says it is no longer available).
ALTER TABLE messages ADD COLUMN article_sent boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN article_id bigint REFERENCES kb_articles (id) ON DELETE SET NULL;
ALTER TABLE messages ADD CONSTRAINT messages_article_check
    CHECK ((NOT article_sent AND article_id IS NULL) OR (article_sent AND kind = 'message' AND author_type = 'agent')) NOT VALID;
CREATE INDEX messages_article_idx ON messages (article_id) WHERE article_id IS NOT NULL;

-- +goose Down
ALTER TABLE messages DROP COLUMN article_id;
ALTER TABLE messages DROP COLUMN article_sent;
DROP TABLE kb_articles;
