-- +goose Up

-- Support sessions: an agent starts a customer conversation before the
-- customer exists and hands them a short key (or the link /s/<key>).
-- channel 'key' is a session joined (or awaited) on the support page,
-- 'link' one joined through its link.
ALTER TABLE conversations DROP CONSTRAINT conversations_channel_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_channel_check CHECK (channel IN ('widget', 'internal', 'key', 'link'));

-- How long an unused key stays valid (Admin → Conversations).
ALTER TABLE desk_settings ADD COLUMN support_key_minutes integer NOT NULL DEFAULT 30
    CHECK (support_key_minutes BETWEEN 1 AND 1440);

CREATE TABLE support_sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint      NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    -- The key as handed out (kept for the record), and the same key while it
    -- still opens the session: unique among live sessions only. Redeeming,
    -- ending, or a new session finding it expired set live_key to NULL.
    key             text        NOT NULL CHECK (key ~ '^[0-9]{6}$'),
    live_key        text        UNIQUE CHECK (live_key = key),
    created_by      bigint      REFERENCES users (id) ON DELETE SET NULL,
    expires_at      timestamptz NOT NULL,
    joined_at       timestamptz,
    joined_via      text        CHECK (joined_via IN ('key', 'link')),
    ended_at        timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((joined_at IS NULL) = (joined_via IS NULL)),
    CHECK (live_key IS NULL OR (joined_at IS NULL AND ended_at IS NULL))
);
CREATE INDEX support_sessions_key_idx ON support_sessions (key, id DESC);

-- Invitations to join a session, by email or SMS, each sent by a job; the
-- agent sees when it left or why it failed.
CREATE TABLE support_invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint      NOT NULL REFERENCES support_sessions (id) ON DELETE CASCADE,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms')),
    -- An email address, or a phone number in E.164.
    address     text        NOT NULL CHECK (length(address) BETWEEN 1 AND 254),
    language    text        NOT NULL DEFAULT '' CHECK (length(language) <= 35),
    status      text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    error       text        NOT NULL DEFAULT '' CHECK (length(error) <= 500),
    sent_at     timestamptz,
    created_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX support_invitations_session_idx ON support_invitations (session_id, id);

-- Emailed invitations are sent exactly once like other emails.
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_kind_check;
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_kind_check CHECK (kind IN ('agent', 'customer', 'session_invite'));

-- +goose Down
DELETE FROM email_deliveries WHERE kind = 'session_invite';
ALTER TABLE email_deliveries DROP CONSTRAINT email_deliveries_kind_check;
ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_kind_check CHECK (kind IN ('agent', 'customer'));
DROP TABLE support_invitations;
DROP TABLE support_sessions;
ALTER TABLE desk_settings DROP COLUMN support_key_minutes;
UPDATE conversations SET channel = 'widget' WHERE channel IN ('key', 'link');
ALTER TABLE conversations DROP CONSTRAINT conversations_channel_check;
ALTER TABLE conversations ADD CONSTRAINT conversations_channel_check CHECK (channel IN ('widget', 'internal'));
