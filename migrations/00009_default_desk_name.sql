-- +goose Up

-- An unnamed desk stores '' and is shown as "Support" in the reader's
-- language (views.DeskName), not as the English word in every language. A
-- desk still carrying the old untranslated default becomes unnamed.
ALTER TABLE desk_settings DROP CONSTRAINT desk_settings_desk_name_check;
ALTER TABLE desk_settings ALTER COLUMN desk_name SET DEFAULT '';
ALTER TABLE desk_settings ADD CONSTRAINT desk_settings_desk_name_check
    CHECK (desk_name = '' OR length(btrim(desk_name)) BETWEEN 1 AND 80);
UPDATE desk_settings SET desk_name = '' WHERE desk_name = 'Support';

-- +goose Down
UPDATE desk_settings SET desk_name = 'Support' WHERE desk_name = '';
ALTER TABLE desk_settings DROP CONSTRAINT desk_settings_desk_name_check;
ALTER TABLE desk_settings ALTER COLUMN desk_name SET DEFAULT 'Support';
ALTER TABLE desk_settings ADD CONSTRAINT desk_settings_desk_name_check
    CHECK (length(btrim(desk_name)) BETWEEN 1 AND 80);
