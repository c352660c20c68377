-- +goose Up

-- Who switched the desk online or offline, and when: shown to admins
-- (Admin → Conversations). The name is kept as it was, so a deleted user's
-- switch still reads right.
CREATE TABLE desk_status_changes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    user_name  text        NOT NULL,
    online     boolean     NOT NULL, -- what it was set to (it was the opposite before)
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX desk_status_changes_recent_idx ON desk_status_changes (created_at DESC, id DESC);

-- +goose Down
DROP TABLE desk_status_changes;
