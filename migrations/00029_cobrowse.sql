-- +goose Up

-- Co-browsing (models/cobrowse.go): an agent asks to follow the customer's
-- page; the customer allows or declines in the widget. While a session is
-- active, the widget loader on the customer's site records the page's DOM
-- with rrweb (inputs masked, private elements blocked, in the browser) and
-- posts batches of events, stored here as chunks and announced to the desk
-- by id. Chunks are deleted by a job once the session ends (jobs/cobrowse.go):
-- nothing of the customer's page outlives the session.
CREATE TABLE cobrowse_sessions (
    id              bigserial   PRIMARY KEY,
    public_id       uuid        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    conversation_id bigint      NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    requested_by    bigint      REFERENCES users(id) ON DELETE SET NULL,
    state           text        NOT NULL DEFAULT 'requested'
                    CHECK (state IN ('requested', 'active', 'declined', 'ended')),
    -- bytes is the sum of the session's chunk sizes, capped per session
    -- (models.CobrowseSessionLimit).
    bytes           bigint      NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    accepted_at     timestamptz,
    ended_at        timestamptz,
    ended_by        text        CHECK (ended_by IN ('agent', 'customer', 'system')),
    CHECK ((state IN ('declined', 'ended')) = (ended_at IS NOT NULL)),
    CHECK (state <> 'active' OR accepted_at IS NOT NULL)
);
-- At most one running (requested or active) session per conversation: a
-- second request while one runs is refused.
CREATE UNIQUE INDEX cobrowse_sessions_running_idx ON cobrowse_sessions (conversation_id)
    WHERE state IN ('requested', 'active');
CREATE INDEX cobrowse_sessions_conversation_idx ON cobrowse_sessions (conversation_id, id DESC);

CREATE TABLE cobrowse_chunks (
    id          bigserial   PRIMARY KEY,
    session_id  bigint      NOT NULL REFERENCES cobrowse_sessions(id) ON DELETE CASCADE,
    -- data is a JSON array of rrweb events, as the recorder produced them.
    data        bytea       NOT NULL CHECK (octet_length(data) BETWEEN 2 AND 524288),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cobrowse_chunks_session_idx ON cobrowse_chunks (session_id, id);

-- +goose Down
DROP TABLE cobrowse_chunks;
DROP TABLE cobrowse_sessions;
