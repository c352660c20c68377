-- +goose Up
-- Tickets and tasks: the work that comes out of conversations. Each kind has
-- its own gap-free numbering (T-1042, K-87), kept in a counter row updated
-- under lock (a sequence would skip numbers on rollback).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE item_counters (
    kind        text   PRIMARY KEY CHECK (kind IN ('ticket', 'task')),
    last_number bigint NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);
INSERT INTO item_counters (kind) VALUES ('ticket'), ('task');

CREATE TABLE items (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('ticket', 'task')),
    number       bigint      NOT NULL CHECK (number > 0),
    title        text        NOT NULL CHECK (title = btrim(title) AND char_length(title) BETWEEN 1 AND 200),
    description  text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 20000),
    status       text        NOT NULL,
    priority     text        NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    -- Sorting by priority sorts by this (urgent first), through an index.
    priority_rank smallint   GENERATED ALWAYS AS (CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END) STORED,
    -- Open items are the ones that can be overdue.
    open         boolean     GENERATED ALWAYS AS (status NOT IN ('resolved', 'closed', 'done')) STORED,
    assignee_id  bigint      REFERENCES users (id) ON DELETE SET NULL,
    team_id      bigint      REFERENCES teams (id) ON DELETE SET NULL,
    requester_id bigint      REFERENCES customers (id) ON DELETE SET NULL,
    created_by   bigint      REFERENCES users (id) ON DELETE SET NULL,
    due_on       date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, number),
    CHECK ((kind = 'ticket' AND status IN ('new', 'open', 'in_progress', 'waiting', 'resolved', 'closed'))
        OR (kind = 'task' AND status IN ('todo', 'in_progress', 'done'))),
    -- Requesters are customers: only tickets have one.
    CHECK (kind = 'ticket' OR requester_id IS NULL)
);
-- One index per list filter, each in the list's default order (recently
-- updated first) for keyset paging; the other sorts have their own.
CREATE INDEX items_updated_idx  ON items (kind, updated_at DESC, id DESC);
CREATE INDEX items_status_idx   ON items (kind, status, updated_at DESC, id DESC);
CREATE INDEX items_assignee_idx ON items (kind, assignee_id, updated_at DESC, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX items_team_idx     ON items (kind, team_id, updated_at DESC, id DESC) WHERE team_id IS NOT NULL;
CREATE INDEX items_priority_idx ON items (kind, priority_rank DESC, updated_at DESC, id DESC);
CREATE INDEX items_created_idx  ON items (kind, created_at DESC, id DESC);
CREATE INDEX items_due_idx      ON items (kind, (COALESCE(due_on, 'infinity'::date)), id);
CREATE INDEX items_overdue_idx  ON items (kind, due_on, id) WHERE open AND due_on IS NOT NULL;
CREATE INDEX items_created_by_idx ON items (created_by, kind) INCLUDE (id);
-- The "mine" lists page the items I created in the list's default order.
CREATE INDEX items_creator_updated_idx ON items (kind, created_by, updated_at DESC, id DESC);
CREATE INDEX items_requester_idx ON items (requester_id) WHERE requester_id IS NOT NULL;
CREATE INDEX items_title_trgm_idx ON items USING gin (title gin_trgm_ops);

CREATE TABLE item_followers (
    item_id    bigint      NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX item_followers_user_idx ON item_followers (user_id, item_id);

-- Who changed what on an item, and when. Values are stored as shown at the
-- time (names, not ids), so history survives renames and deletions.
CREATE TABLE item_activities (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id    bigint      NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    actor_id   bigint      REFERENCES users (id) ON DELETE SET NULL,
    actor_name text        NOT NULL DEFAULT '',
    field      text        NOT NULL CHECK (field IN ('created', 'title', 'description', 'status', 'priority',
                                                     'assignee', 'team', 'due', 'linked', 'unlinked')),
    old_value  text        NOT NULL DEFAULT '',
    new_value  text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX item_activities_item_idx ON item_activities (item_id, id);

-- A conversation belongs to at most one item.
ALTER TABLE conversations ADD COLUMN item_id bigint REFERENCES items (id) ON DELETE SET NULL;
CREATE INDEX conversations_item_idx ON conversations (item_id, last_message_at DESC) INCLUDE (id) WHERE item_id IS NOT NULL;

-- Being involved in a conversation's item (its assignee, creator or a
-- follower) puts the conversation in one's My conversations. It is kept as a
-- flag on the user's conversation row (item.go syncs it on link, unlink,
-- reassignment and following), so My conversations and its unread count are
-- one index range per user instead of a search through their items.
ALTER TABLE conversation_users ADD COLUMN via_item boolean NOT NULL DEFAULT false;
DROP INDEX conversation_users_mine_idx;
CREATE INDEX conversation_users_mine_idx ON conversation_users (user_id, conversation_id)
    WHERE member OR participated OR following OR via_item;

-- Live updates of item panels and pages.
ALTER TABLE events ADD COLUMN item_id bigint REFERENCES items (id) ON DELETE CASCADE;

-- +goose Down
ALTER TABLE events DROP COLUMN item_id;
ALTER TABLE conversations DROP COLUMN item_id;
DROP INDEX conversation_users_mine_idx;
ALTER TABLE conversation_users DROP COLUMN via_item;
CREATE INDEX conversation_users_mine_idx ON conversation_users (user_id, conversation_id) WHERE member OR participated OR following;
DROP TABLE item_activities;
DROP TABLE item_followers;
DROP TABLE items;
DROP TABLE item_counters;
