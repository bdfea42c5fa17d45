-- A case file per account, in a thread: the card dunbot posted for an account in a channel
-- (Slack: its ts, which is also the thread's; Discord: the message id, which is also the id of
-- the thread started from it). One row per channel and account; delivering an event locks it,
-- so two workers delivering at once still make one card.
CREATE TABLE case_threads (
    channel     text NOT NULL,          -- "slack:C123", "discord:456", "console:local"
    account_id  bigint NOT NULL REFERENCES accounts(id),
    card_id     text,                   -- NULL until the card is posted
    thread_id   text,
    -- The outbox row whose card the message shows: an older row never overwrites a newer card.
    shown_row   bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, account_id)
);
CREATE INDEX case_threads_account ON case_threads(account_id);

-- Events posted in a thread, by outbox key: a retried row never posts its event twice.
CREATE TABLE case_thread_posts (
    dedupe_key  text PRIMARY KEY,
    channel     text NOT NULL,
    message_id  text NOT NULL,
    posted_at   timestamptz NOT NULL DEFAULT now()
);

-- `dunbot subscribe <channel> --case-threads off`: a channel not subscribed keeps them on.
ALTER TABLE digest_subscriptions ADD COLUMN case_threads boolean NOT NULL DEFAULT true;
