-- The Slack edge's own bookkeeping; the actions log stays the record of what people did.

-- Each part of a chat post already on Slack (a long digest is a first message and thread
-- replies): a retried outbox row resumes after the parts that made it, so none is posted twice.
CREATE TABLE slack_posts (
    dedupe_key text NOT NULL,
    part int NOT NULL,
    channel text NOT NULL,
    ts text NOT NULL,
    posted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dedupe_key, part)
);

-- A button that opened a modal: the message it sat on, so that when the modal's command takes
-- effect the message can show who did what (Slack does not send the message with a submission).
CREATE TABLE slack_forms (
    ref text PRIMARY KEY,
    channel text NOT NULL,
    ts text NOT NULL,
    block_id text NOT NULL,
    text text NOT NULL,
    blocks jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
