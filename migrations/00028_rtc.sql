-- +goose Up

-- Remote support over WebRTC (issue 11): media sessions between an agent and
-- the customer of a conversation (screen sharing either way, audio and
-- video calls), and the signalling messages their browsers exchange.
-- Nothing of the media itself is ever stored: only who asked for what, the
-- answer, and when it started and ended.
CREATE TABLE rtc_sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What browsers name it by (the customer sees it): not guessable.
    public_id       uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('screen', 'agent_screen', 'audio', 'video')),
    state           text        NOT NULL DEFAULT 'requested'
                                CHECK (state IN ('requested', 'accepted', 'declined', 'started', 'ended')),
    -- The agent taking part (who asked); NULL once their account is gone.
    user_id         bigint      REFERENCES users (id) ON DELETE SET NULL,
    user_name       text        NOT NULL DEFAULT '',
    end_reason      text        NOT NULL DEFAULT '' CHECK (length(end_reason) <= 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    started_at      timestamptz,
    ended_at        timestamptz,
    CHECK ((state IN ('declined', 'ended')) = (ended_at IS NOT NULL))
);
-- One running session per conversation: a second request is refused (the
-- model says why first; this index is the guarantee under races).
CREATE UNIQUE INDEX rtc_sessions_running_idx ON rtc_sessions (conversation_id)
    WHERE state IN ('requested', 'accepted', 'started');
CREATE INDEX rtc_sessions_conversation_idx ON rtc_sessions (conversation_id, id DESC);

-- A signalling message (SDP offer or answer, a batch of ICE candidates, a
-- pointer-free "bye"): stored here and announced by id only (an offer with
-- audio, video, screen and a data channel is over NOTIFY's 8,000 bytes).
-- The addressee fetches it by id; a session's signals are deleted when it
-- ends.
CREATE TABLE rtc_signals (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id bigint      NOT NULL REFERENCES rtc_sessions (id) ON DELETE CASCADE,
    from_peer  text        NOT NULL CHECK (length(from_peer) <= 32),
    to_peer    text        NOT NULL CHECK (length(to_peer) <= 32),
    kind       text        NOT NULL CHECK (kind IN ('offer', 'answer', 'ice', 'bye')),
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rtc_signals_session_idx ON rtc_signals (session_id);
CREATE INDEX rtc_signals_created_idx ON rtc_signals (created_at);

-- +goose Down
DROP TABLE rtc_signals;
DROP TABLE rtc_sessions;
