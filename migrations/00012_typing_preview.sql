-- +goose Up

-- Agents may see a preview of what the customer is typing only when an admin
-- turns it on (Admin → Conversations): off by default, for privacy.
ALTER TABLE desk_settings ADD COLUMN typing_preview boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE desk_settings DROP COLUMN typing_preview;
