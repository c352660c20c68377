-- +goose Up

-- A search for a common word with a conversation filter (models/search.go,
-- walkConversations) walks the filtered conversations most recently
-- changed first: every message sets updated_at, so it bounds the time of a
-- conversation's newest match.
CREATE INDEX conversations_search_assignee_idx ON conversations (assignee_id, updated_at DESC);
CREATE INDEX conversations_search_team_idx ON conversations (team_id, updated_at DESC) WHERE team_id IS NOT NULL;
CREATE INDEX conversations_search_status_idx ON conversations (status, updated_at DESC);

-- +goose Down
DROP INDEX conversations_search_status_idx;
DROP INDEX conversations_search_team_idx;
DROP INDEX conversations_search_assignee_idx;
