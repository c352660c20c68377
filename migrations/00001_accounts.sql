-- +goose Up
-- Accounts: staff users (admins and agents), their server-side sessions, teams,
-- and the failed sign-in log that rate limiting reads.

CREATE TABLE users (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    email            text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash    text        NOT NULL DEFAULT '',
    role             text        NOT NULL DEFAULT 'agent' CHECK (role IN ('admin', 'agent')),
    customer_support boolean     NOT NULL DEFAULT true,
    active           boolean     NOT NULL DEFAULT true,
    locale           text        NOT NULL DEFAULT '' CHECK (locale IN ('', 'en', 'pt-BR', 'fr')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deactivated_at   timestamptz,
    CHECK (active = (deactivated_at IS NULL))
);
-- Emails are compared case-insensitively; the stored form is lower-cased by the model.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_name_idx ON users (lower(name), id);

CREATE TABLE sessions (
    -- SHA-256 of the random token in the cookie: a leaked table does not leak live cookies.
    token_hash   bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    user_agent   text        NOT NULL DEFAULT '',
    ip           text        NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_name_key ON teams (lower(name));

CREATE TABLE team_members (
    team_id    bigint      NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id_idx ON team_members (user_id);

CREATE TABLE login_failures (
    id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text        NOT NULL,
    ip    text        NOT NULL,
    at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (lower(email), at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, at);

-- +goose Down
DROP TABLE login_failures;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE sessions;
DROP TABLE users;
