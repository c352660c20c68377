-- +goose Up

-- Composer comfort, per user: the text size of the transcript and the
-- composer, and whether the browser checks spelling in the composer.
ALTER TABLE users
    ADD COLUMN font_size text NOT NULL DEFAULT 'normal' CHECK (font_size IN ('small', 'normal', 'large')),
    ADD COLUMN spellcheck boolean NOT NULL DEFAULT true;

-- +goose Down
ALTER TABLE users DROP COLUMN font_size, DROP COLUMN spellcheck;
