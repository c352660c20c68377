-- +goose Up
-- Bounded stream resumes and sign-in throttling without lock-outs.

-- A visitor's stream replays only its customer's conversations' events plus
-- the few desk-wide ones: both are index ranges, never a walk over the log.
CREATE INDEX events_conversation_xid_idx ON events (conversation_id, xid) WHERE conversation_id IS NOT NULL;
CREATE INDEX events_desk_wide_idx ON events (xid) WHERE kind IN ('desk_status', 'settings');

-- Browsers that signed in to an account before ("device cookies"): a known
-- device is not subject to the throttles an attacker can trip for an
-- account, only to its own failure count. Only the token's SHA-256 is kept.
CREATE TABLE login_devices (
    token_hash   bytea       PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX login_devices_user_idx ON login_devices (user_id);
CREATE INDEX login_devices_expires_idx ON login_devices (expires_at);

-- The device cookie a failed attempt came with, when it was a known device
-- of the account tried.
ALTER TABLE login_failures ADD COLUMN device_hash bytea;
CREATE INDEX login_failures_pair_idx ON login_failures (lower(email), ip, at);
CREATE INDEX login_failures_device_idx ON login_failures (device_hash, at) WHERE device_hash IS NOT NULL;

-- +goose Down
DROP INDEX login_failures_device_idx;
DROP INDEX login_failures_pair_idx;
ALTER TABLE login_failures DROP COLUMN device_hash;
DROP TABLE login_devices;
DROP INDEX events_desk_wide_idx;
DROP INDEX events_conversation_xid_idx;
