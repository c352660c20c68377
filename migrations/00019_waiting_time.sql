-- +goose Up

-- Waiting time (Admin → Conversations): a customer conversation is green
-- while its customer has waited less than waiting_amber_minutes since their
-- oldest unanswered message (conversations.waiting_since, kept by
-- insertMessage), amber until waiting_red_minutes, red after.
ALTER TABLE desk_settings ADD COLUMN waiting_amber_minutes integer NOT NULL DEFAULT 2;
ALTER TABLE desk_settings ADD COLUMN waiting_red_minutes integer NOT NULL DEFAULT 5;
ALTER TABLE desk_settings ADD CONSTRAINT desk_settings_waiting_check
    CHECK (waiting_amber_minutes >= 0 AND waiting_red_minutes > waiting_amber_minutes AND waiting_red_minutes <= 10080);

-- The inbox's "oldest waiting" sort: waiting conversations oldest first,
-- then those nobody waits on (by id), one keyset over the expression.
CREATE INDEX conversations_waiting_idx ON conversations
    (status, (COALESCE(waiting_since, 'infinity'::timestamptz)), id) WHERE kind = 'customer';
-- The "unanswered" filter, newest activity first.
CREATE INDEX conversations_unanswered_idx ON conversations (status, last_message_at DESC, id DESC)
    WHERE kind = 'customer' AND waiting_since IS NOT NULL;

-- +goose Down
DROP INDEX conversations_unanswered_idx;
DROP INDEX conversations_waiting_idx;
ALTER TABLE desk_settings DROP CONSTRAINT desk_settings_waiting_check;
ALTER TABLE desk_settings DROP COLUMN waiting_red_minutes;
ALTER TABLE desk_settings DROP COLUMN waiting_amber_minutes;
