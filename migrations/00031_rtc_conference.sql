-- +goose Up

-- Remote support, the rest of issue 11 (models/rtc_conference.go,
-- models/rtc_reap.go): conference calls, calls the customer starts, and the
-- job that ends sessions nobody answered or everybody dropped.

-- The agents in a session besides the customer (a small mesh: each pair of
-- browsers its own peer connection, at most models.MaxCallMembers people in
-- all, the customer included). The agent who asked (or answered the
-- customer's call) is the first row; others join and leave. A row is kept
-- after leaving (left_at) so joining again reuses it.
CREATE TABLE rtc_members (
    session_id bigint      NOT NULL REFERENCES rtc_sessions (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text        NOT NULL DEFAULT '',
    joined_at  timestamptz NOT NULL DEFAULT now(),
    left_at    timestamptz,
    PRIMARY KEY (session_id, user_id)
);

-- by_customer: the customer started it (a call), and an agent answers.
-- alive_at: the last sign of life of any browser in the session (its
-- start, a signal, or the heartbeat each browser sends while one of its
-- peer connections is connected); the reaper ends a session in which it is
-- too old.
ALTER TABLE rtc_sessions
    ADD COLUMN by_customer boolean     NOT NULL DEFAULT false,
    ADD COLUMN alive_at    timestamptz NOT NULL DEFAULT now(),
    ADD CHECK (NOT by_customer OR kind IN ('audio', 'video'));
-- The reaper's two scans: requests by age, running sessions by liveness.
CREATE INDEX rtc_sessions_ringing_idx ON rtc_sessions (created_at) WHERE state = 'requested';
CREATE INDEX rtc_sessions_alive_idx ON rtc_sessions (alive_at) WHERE state IN ('accepted', 'started');

-- Co-browsing's sign of life: the last chunk (the recorder in the host
-- page posts a tiny keep-alive event every 30 s while the page is quiet).
ALTER TABLE cobrowse_sessions ADD COLUMN alive_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX cobrowse_sessions_running_alive_idx ON cobrowse_sessions (alive_at) WHERE state IN ('requested', 'active');

-- Admin → Conversations: "customers may start calls" (off by default).
ALTER TABLE desk_settings ADD COLUMN customer_calls boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE desk_settings DROP COLUMN customer_calls;
DROP INDEX cobrowse_sessions_running_alive_idx;
ALTER TABLE cobrowse_sessions DROP COLUMN alive_at;
DROP INDEX rtc_sessions_alive_idx;
DROP INDEX rtc_sessions_ringing_idx;
ALTER TABLE rtc_sessions DROP COLUMN alive_at, DROP COLUMN by_customer;
DROP TABLE rtc_members;
