-- +goose Up

-- Comments on tickets and tasks: staff-only discussion in the item's
-- history (an item_activities row of field 'comment', its text in
-- new_value), and the agents each one mentions (notified).
ALTER TABLE item_activities DROP CONSTRAINT item_activities_field_check;
ALTER TABLE item_activities ADD CONSTRAINT item_activities_field_check
    CHECK (field IN ('created', 'title', 'description', 'status', 'priority',
                     'assignee', 'team', 'due', 'linked', 'unlinked', 'comment'));
ALTER TABLE item_activities ADD CONSTRAINT item_activities_comment_check
    CHECK (field <> 'comment' OR char_length(new_value) BETWEEN 1 AND 5000);

CREATE TABLE item_mentions (
    activity_id bigint NOT NULL REFERENCES item_activities (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (activity_id, user_id)
);
CREATE INDEX item_mentions_user_idx ON item_mentions (user_id);

-- +goose Down
DROP TABLE item_mentions;
DELETE FROM item_activities WHERE field = 'comment';
ALTER TABLE item_activities DROP CONSTRAINT item_activities_comment_check;
ALTER TABLE item_activities DROP CONSTRAINT item_activities_field_check;
ALTER TABLE item_activities ADD CONSTRAINT item_activities_field_check
    CHECK (field IN ('created', 'title', 'description', 'status', 'priority',
                     'assignee', 'team', 'due', 'linked', 'unlinked'));
