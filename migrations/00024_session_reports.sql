-- +goose Up

-- Session reports (issue 13 item 6): admins see them, and agents an admin
-- lets see them (Admin → Agents). The report reads customer conversations
-- of the widget, key and link channels, newest first, by day.
ALTER TABLE users ADD COLUMN can_view_reports boolean NOT NULL DEFAULT false;

-- The report's list and its keyset (created_at, id), its date range and
-- totals per day; agent and team filters use the same order.
CREATE INDEX conversations_report_idx ON conversations (created_at DESC, id DESC)
    WHERE kind = 'customer';
CREATE INDEX conversations_report_agent_idx ON conversations (assignee_id, created_at DESC, id DESC)
    WHERE kind = 'customer';
CREATE INDEX conversations_report_team_idx ON conversations (team_id, created_at DESC, id DESC)
    WHERE kind = 'customer' AND team_id IS NOT NULL;

-- +goose Down
DROP INDEX conversations_report_team_idx;
DROP INDEX conversations_report_agent_idx;
DROP INDEX conversations_report_idx;
ALTER TABLE users DROP COLUMN can_view_reports;
