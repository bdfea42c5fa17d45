-- API tokens for the ingest API (`dunbot token create NAME`). Only the SHA-256 of a token is
-- kept: a leaked table does not let anyone call the API. A revoked token stays, so the action
-- log's actor names keep meaning something; a name is reusable once its token is revoked.
CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (name <> ''),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(name) WHERE revoked_at IS NULL;
