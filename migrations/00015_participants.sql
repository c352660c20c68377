-- +goose Up

-- The agents in a customer conversation (the Participants panel): who joined,
-- whether hidden (a hidden agent appears to no customer: their status lines
-- are staff-only and their replies show under the desk's name), who invited
-- them, and when they left. One row per agent and conversation; joining
-- again after leaving reuses it (joined_at moves, left_at clears).
CREATE TABLE conversation_participants (
    conversation_id bigint      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hidden          boolean     NOT NULL DEFAULT false,
    invited_by      bigint      REFERENCES users (id) ON DELETE SET NULL,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    left_at         timestamptz,
    PRIMARY KEY (conversation_id, user_id),
    CHECK (left_at IS NULL OR left_at >= joined_at)
);
-- "Conversations I am in" (ConversationTeammates, audiences) read by user.
CREATE INDEX conversation_participants_user_idx ON conversation_participants (user_id) WHERE left_at IS NULL;

-- Whether the author wrote as a hidden participant: the customer sees the
-- desk's name for such a message forever, even after the agent left or
-- joined visibly again (models.CustomerAuthorName).
ALTER TABLE messages ADD COLUMN author_hidden boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE messages DROP COLUMN author_hidden;
DROP TABLE conversation_participants;
