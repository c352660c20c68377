-- +goose Up

-- The customer context panel (beside a conversation, support staff only):
-- a phone number and free notes about the customer, edited by staff, and
-- the history of every staff edit to a customer's contact fields.
ALTER TABLE customers ADD COLUMN phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 32);
ALTER TABLE customers ADD COLUMN notes text NOT NULL DEFAULT '' CHECK (char_length(notes) <= 5000);

-- Who changed which field of a customer, from what to what, and when. The
-- actor's name is kept as shown then, so history survives a rename or a
-- deleted account.
CREATE TABLE customer_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint      NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    actor_id    bigint      REFERENCES users (id) ON DELETE SET NULL,
    actor_name  text        NOT NULL DEFAULT '',
    field       text        NOT NULL CHECK (field IN ('name', 'email', 'phone', 'notes')),
    old_value   text        NOT NULL DEFAULT '',
    new_value   text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_changes_customer_idx ON customer_changes (customer_id, id DESC);

-- +goose Down
DROP TABLE customer_changes;
ALTER TABLE customers DROP COLUMN notes;
ALTER TABLE customers DROP COLUMN phone;
