-- +goose Up
-- The live messenger: desk settings, customers and their browsers (visitors),
-- conversations with their messages, per-user membership and read markers,
-- and the event log that realtime delivery reads.

-- One row: the desk's widget appearance, online state and identity secret.
CREATE TABLE desk_settings (
    id                      smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    desk_name               text        NOT NULL DEFAULT 'Support' CHECK (length(btrim(desk_name)) BETWEEN 1 AND 80),
    brand_color             text        NOT NULL DEFAULT '#2563eb' CHECK (brand_color ~ '^#[0-9a-fA-F]{6}$'),
    -- Empty texts show the translated defaults in the visitor's language.
    greeting                text        NOT NULL DEFAULT '' CHECK (length(greeting) <= 500),
    online_message          text        NOT NULL DEFAULT '' CHECK (length(online_message) <= 500),
    offline_message         text        NOT NULL DEFAULT '' CHECK (length(offline_message) <= 500),
    online                  boolean     NOT NULL DEFAULT true,
    online_changed_at       timestamptz,
    online_changed_by       bigint      REFERENCES users (id) ON DELETE SET NULL,
    -- Host pages sign visitor identities with this (HMAC-SHA256); set by the app on first use.
    widget_secret           text        NOT NULL DEFAULT '',
    require_signed_identity boolean     NOT NULL DEFAULT false,
    -- Origins (scheme://host[:port]) allowed to embed the widget, besides Parley itself.
    allowed_origins         text[]      NOT NULL DEFAULT '{}',
    demo_enabled            boolean     NOT NULL DEFAULT true,
    updated_at              timestamptz NOT NULL DEFAULT now()
);
INSERT INTO desk_settings (id) VALUES (1);

ALTER TABLE users ADD COLUMN notify_sound boolean NOT NULL DEFAULT true;

-- A customer is a person who chats from the widget. Verified customers come
-- from a signed identity and are shared by all their devices; unverified ones
-- belong to one browser and are never merged into another customer.
CREATE TABLE customers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL DEFAULT '' CHECK (length(name) <= 100),
    email       text        NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    external_id text        CHECK (external_id IS NULL OR length(external_id) BETWEEN 1 AND 200),
    verified    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (verified = (external_id IS NOT NULL))
);
CREATE UNIQUE INDEX customers_external_id_key ON customers (external_id) WHERE verified;

-- A visitor is one browser running the widget, known by a random token kept
-- in the host page's storage. Only the token's SHA-256 is stored.
CREATE TABLE visitors (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    customer_id  bigint      NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visitors_customer_id_idx ON visitors (customer_id);

CREATE TABLE conversations (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What browsers see: not guessable, unlike id.
    public_id            uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    kind                 text        NOT NULL CHECK (kind IN ('customer', 'internal')),
    status               text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    customer_id          bigint      REFERENCES customers (id) ON DELETE CASCADE,
    assignee_id          bigint      REFERENCES users (id) ON DELETE SET NULL,
    team_id              bigint      REFERENCES teams (id) ON DELETE SET NULL,
    created_by           bigint      REFERENCES users (id) ON DELETE SET NULL,
    subject              text        NOT NULL DEFAULT '' CHECK (length(subject) <= 200),
    -- Session details, recorded when a customer starts the conversation.
    channel              text        NOT NULL DEFAULT 'widget' CHECK (channel IN ('widget', 'internal')),
    page_url             text        NOT NULL DEFAULT '' CHECK (length(page_url) <= 2000),
    referrer             text        NOT NULL DEFAULT '' CHECK (length(referrer) <= 2000),
    user_agent           text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500),
    browser              text        NOT NULL DEFAULT '',
    os                   text        NOT NULL DEFAULT '',
    language             text        NOT NULL DEFAULT '',
    timezone             text        NOT NULL DEFAULT '',
    -- Denormalised for the inbox: the newest message and how long the customer has waited.
    last_message_id      bigint      NOT NULL DEFAULT 0,
    last_message_at      timestamptz NOT NULL DEFAULT now(),
    last_message_preview text        NOT NULL DEFAULT '',
    waiting_since        timestamptz,
    closed_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
-- Inbox lists: Open/Closed × All/Unassigned/Mine, newest activity first.
CREATE INDEX conversations_inbox_idx ON conversations (status, last_message_at DESC, id DESC) WHERE kind = 'customer';
CREATE INDEX conversations_unassigned_idx ON conversations (status, last_message_at DESC, id DESC) WHERE kind = 'customer' AND assignee_id IS NULL;
CREATE INDEX conversations_assignee_idx ON conversations (assignee_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_customer_idx ON conversations (customer_id, last_message_at DESC);

CREATE TABLE messages (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id    bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- message: seen by everyone in the conversation; note: staff only; system: a status line.
    kind               text        NOT NULL CHECK (kind IN ('message', 'note', 'system')),
    author_type        text        NOT NULL CHECK (author_type IN ('customer', 'agent', 'system')),
    author_user_id     bigint      REFERENCES users (id) ON DELETE SET NULL,
    author_customer_id bigint      REFERENCES customers (id) ON DELETE SET NULL,
    body               text        NOT NULL DEFAULT '' CHECK (length(body) <= 10000),
    -- For system lines: what happened (closed, reopened_by_customer, assigned, …) and its
    -- details; the views translate it for each reader.
    event              text        NOT NULL DEFAULT '',
    event_data         jsonb       NOT NULL DEFAULT '{}',
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'system') = (event <> '')),
    CHECK (kind = 'system' OR length(btrim(body)) > 0),
    CHECK (kind <> 'note' OR author_type = 'agent')
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);

-- Staff users' relation to a conversation: member of an internal one, wrote
-- in it, follows it; and how far they have read (unread counts).
CREATE TABLE conversation_users (
    conversation_id      bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id              bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    member               boolean     NOT NULL DEFAULT false,
    participated         boolean     NOT NULL DEFAULT false,
    following            boolean     NOT NULL DEFAULT false,
    last_read_message_id bigint      NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_users_mine_idx ON conversation_users (user_id, conversation_id) WHERE member OR participated OR following;

-- The durable record of every realtime event, written in the same
-- transaction as the change. xid lets readers take only what is committed
-- (see app/realtime.go).
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    kind            text        NOT NULL,
    conversation_id bigint      REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      bigint      REFERENCES messages (id) ON DELETE CASCADE,
    user_id         bigint      REFERENCES users (id) ON DELETE CASCADE,
    data            jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_xid_idx ON events (xid);
CREATE INDEX events_created_at_idx ON events (created_at);

-- Events below this transaction id may have been pruned: a client resuming
-- from before it reloads instead of replaying.
CREATE TABLE events_pruned (
    id         smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    before_xid bigint   NOT NULL DEFAULT 0
);
INSERT INTO events_pruned (id) VALUES (1);

-- +goose Down
DROP TABLE events_pruned;
DROP TABLE events;
DROP TABLE conversation_users;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE visitors;
DROP TABLE customers;
ALTER TABLE users DROP COLUMN notify_sound;
DROP TABLE desk_settings;
