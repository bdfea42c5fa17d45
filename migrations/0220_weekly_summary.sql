-- The weekly summary: its own cron per subscribed channel (NULL: the weekly post is off),
-- a run per channel and ISO week (inserting it is the claim, as with digest_runs), and the
-- Slack file of a weekly post once uploaded, so a retried delivery completes that same file.
ALTER TABLE digest_subscriptions ADD COLUMN weekly_cron text DEFAULT '0 8 * * Mon';

CREATE TABLE weekly_runs (
    subscription_id bigint NOT NULL REFERENCES digest_subscriptions(id),
    week_start      date NOT NULL,        -- the Monday of the ISO week the post is for
    scheduled_at    timestamptz NOT NULL,
    claimed_by      text NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    late            boolean NOT NULL,
    outbox_id       bigint,
    PRIMARY KEY (subscription_id, week_start)
);

CREATE TABLE slack_uploads (
    dedupe_key   text PRIMARY KEY,        -- the outbox row's
    file_id      text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
