-- +goose Up

-- Each staff user's email preferences. No row means the defaults: every
-- reason on, delivered as a digest after 5 minutes if still unread.
CREATE TABLE user_email_prefs (
    user_id          bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    new_conversation boolean     NOT NULL DEFAULT true,
    assigned         boolean     NOT NULL DEFAULT true,
    message          boolean     NOT NULL DEFAULT true,
    delivery         text        NOT NULL DEFAULT 'digest' CHECK (delivery IN ('off', 'immediate', 'digest')),
    digest_minutes   integer     NOT NULL DEFAULT 5 CHECK (digest_minutes BETWEEN 1 AND 1440),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- What a staff user is to be emailed about: one row per event and
-- recipient, marked done in the transaction that sends (or drops) it. The
-- first due job of a user takes all of that user's open rows, so a burst
-- becomes one email. Done rows stay a week, so a fan-out that runs again
-- cannot queue the same event twice.
CREATE TABLE email_pending (
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id        bigint      NOT NULL,
    reason          text        NOT NULL CHECK (reason IN ('new_conversation', 'assigned', 'message')),
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    message_id      bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX email_pending_open_idx ON email_pending (user_id) WHERE done_at IS NULL;
CREATE INDEX email_pending_done_idx ON email_pending (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX email_pending_conversation_idx ON email_pending (conversation_id);

-- Every email sent, by idempotency key (kind, event or message, recipient):
-- a job that runs again finds its key and sends nothing. Written in the
-- transaction that consumes what was sent.
CREATE TABLE email_deliveries (
    key        text        PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('agent', 'customer')),
    recipient  text        NOT NULL,
    message_id text        NOT NULL,
    job_id     bigint,
    sent_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_deliveries_sent_at_idx ON email_deliveries (sent_at);

-- The customer's read marker (moved by the widget when it shows messages)
-- and how far their email continuity has gone.
ALTER TABLE conversations
    ADD COLUMN customer_last_read_message_id bigint NOT NULL DEFAULT 0;

CREATE TABLE customer_email_state (
    conversation_id     bigint      PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    emailed_message_id  bigint      NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The key that signs the links in customer emails (separate from the widget
-- secret, which host sites know).
CREATE TABLE mail_secrets (
    id          smallint    PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    link_secret bytea       NOT NULL CHECK (length(link_secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE mail_secrets;
DROP TABLE customer_email_state;
ALTER TABLE conversations DROP COLUMN customer_last_read_message_id;
DROP TABLE email_deliveries;
DROP TABLE email_pending;
DROP TABLE user_email_prefs;
