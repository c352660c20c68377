-- +goose Up

-- Canned replies ("text blocks"): texts an agent inserts into the composer
-- by typing '#'. A reply is personal (its owner only), a team's (that team's
-- members; admins manage every team's) or desk-wide (everyone uses them,
-- admins manage them). models/canned.go holds the rules; the body's
-- placeholders ({{customer.name | there}}) are checked there on save and
-- resolved at insertion. url is the "scripted URL": sent with the message
-- and shown to the customer as a link card.
CREATE TABLE canned_replies (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    scope       text        NOT NULL CHECK (scope IN ('personal', 'team', 'desk')),
    owner_id    bigint      REFERENCES users (id) ON DELETE CASCADE,
    team_id     bigint      REFERENCES teams (id) ON DELETE CASCADE,
    title       text        NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 80),
    shortcut    text        NOT NULL DEFAULT '' CHECK (shortcut ~ '^[a-z0-9_-]{0,30}$'),
    body        text        NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 5000),
    url         text        NOT NULL DEFAULT '' CHECK (url = '' OR (url ~* '^https?://' AND length(url) <= 2000)),
    usage_count bigint      NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    created_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'personal') = (owner_id IS NOT NULL)),
    CHECK ((scope = 'team') = (team_id IS NOT NULL))
);
-- The list and the picker: a user's own, their teams', the desk's; most used first.
CREATE INDEX canned_replies_owner_idx ON canned_replies (owner_id, usage_count DESC, id) WHERE scope = 'personal';
CREATE INDEX canned_replies_team_idx ON canned_replies (team_id, usage_count DESC, id) WHERE scope = 'team';
CREATE INDEX canned_replies_desk_idx ON canned_replies (usage_count DESC, id) WHERE scope = 'desk';

-- A message may carry a link (a canned reply's scripted URL), shown as a card.
-- Existing rows hold '' and pass; NOT VALID skips re-reading the table.
ALTER TABLE messages ADD COLUMN link_url text NOT NULL DEFAULT '';
ALTER TABLE messages ADD CONSTRAINT messages_link_url_check
    CHECK (link_url = '' OR (kind = 'message' AND link_url ~* '^https?://' AND length(link_url) <= 2000)) NOT VALID;

-- +goose Down
ALTER TABLE messages DROP COLUMN link_url;
DROP TABLE canned_replies;
