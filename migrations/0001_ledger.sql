-- dunbot ledger: accounts, invoices, payments, collections state, and the append-only action log.
-- Money is bigint minor units beside a char(3) ISO 4217 currency; dates are the company's calendar
-- dates; instants are timestamptz.

CREATE TABLE agencies (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    webhook_url     text,
    webhook_secret  text,
    channel         text,          -- "slack:C123" / "discord:456" / "console:agency"
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id              bigserial PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    currency        char(3) NOT NULL,
    time_zone       text NOT NULL DEFAULT 'UTC',
    owner           text,          -- the collector responsible
    do_not_contact  boolean NOT NULL DEFAULT false,
    hold_until      date,          -- automatic chasing held until (inclusive)
    held            boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id),
    name        text,
    email       text,
    phone       text,
    is_primary  boolean NOT NULL DEFAULT true
);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE invoices (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id),
    number      text NOT NULL UNIQUE,
    issued      date NOT NULL,
    due         date NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency    char(3) NOT NULL,
    paid_minor  bigint NOT NULL DEFAULT 0,   -- kept in step with payments, in the same transaction
    paid_on     date,                        -- the day the balance reached zero
    status      text NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'paid', 'disputed', 'written_off', 'with_agency')),
    CHECK (due >= issued)
);
CREATE INDEX invoices_account ON invoices(account_id);
CREATE INDEX invoices_open_due ON invoices(due) WHERE status IN ('open', 'disputed', 'with_agency');

CREATE TABLE payments (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id),
    invoice_id  bigint REFERENCES invoices(id),
    paid_on     date NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency    char(3) NOT NULL,
    reference   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, reference)
);
CREATE INDEX payments_account_day ON payments(account_id, paid_on);

CREATE TABLE promises (
    id            bigserial PRIMARY KEY,
    account_id    bigint NOT NULL REFERENCES accounts(id),
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    currency      char(3) NOT NULL,
    promised_for  date NOT NULL,
    logged_on     date NOT NULL,
    note          text,
    logged_by     text NOT NULL,
    logged_at     timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'kept', 'broken')),
    resolved_at   timestamptz
);
CREATE INDEX promises_account ON promises(account_id);
CREATE INDEX promises_pending ON promises(promised_for) WHERE status = 'pending';

CREATE TABLE disputes (
    id           bigserial PRIMARY KEY,
    invoice_id   bigint NOT NULL REFERENCES invoices(id),
    reason       text NOT NULL,
    opened_by    text NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    resolved_by  text,
    resolved_at  timestamptz
);
CREATE UNIQUE INDEX disputes_one_open ON disputes(invoice_id) WHERE resolved_at IS NULL;

CREATE TABLE flags (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id),
    reason       text NOT NULL,
    flagged_by   text NOT NULL,
    flagged_at   timestamptz NOT NULL DEFAULT now(),
    resolved_by  text,
    resolved_at  timestamptz,
    outcome      text
);
CREATE UNIQUE INDEX flags_one_open ON flags(account_id) WHERE resolved_at IS NULL;

CREATE TABLE referrals (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id),
    agency_id    bigint NOT NULL REFERENCES agencies(id),
    referred_by  text NOT NULL,
    referred_at  timestamptz NOT NULL DEFAULT now(),
    closed_at    timestamptz
);
CREATE UNIQUE INDEX referrals_one_active ON referrals(account_id) WHERE closed_at IS NULL;

CREATE TABLE offers (
    id            bigserial PRIMARY KEY,
    referral_id   bigint NOT NULL REFERENCES referrals(id),
    account_id    bigint NOT NULL REFERENCES accounts(id),
    agency_id     bigint NOT NULL REFERENCES agencies(id),
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    currency      char(3) NOT NULL,
    note          text,
    offered_by    text NOT NULL,
    offered_at    timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'proposed'
                  CHECK (status IN ('proposed', 'approved', 'rejected', 'withdrawn')),
    decided_by    text,
    decided_at    timestamptz,
    decision_note text
);
CREATE INDEX offers_proposed ON offers(offered_at) WHERE status = 'proposed';

-- People and their roles, per platform user id. An agency person is scoped to one agency.
CREATE TABLE people (
    platform    text NOT NULL,
    user_id     text NOT NULL,
    role        text NOT NULL CHECK (role IN ('collector', 'manager', 'agency', 'admin')),
    agency_id   bigint REFERENCES agencies(id),
    granted_by  text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, user_id, role),
    CHECK ((role = 'agency') = (agency_id IS NOT NULL))
);

CREATE TABLE reminders (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts(id),
    invoice_id  bigint REFERENCES invoices(id),
    tone        text NOT NULL CHECK (tone IN ('friendly', 'firm', 'final')),
    stage       text,                 -- set when the policy queued it
    queued_by   text NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    outbox_id   bigint
);
CREATE INDEX reminders_account ON reminders(account_id, queued_at);

-- Everything that leaves dunbot is a row first (mail, webhooks, chat posts).
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL,           -- email | webhook | chat
    dedupe_key      text NOT NULL UNIQUE,    -- also sent as Message-ID / delivery id
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';

CREATE TABLE digest_subscriptions (
    id          bigserial PRIMARY KEY,
    channel     text NOT NULL UNIQUE,  -- "console:local", "slack:C123", "discord:456"
    cron        text NOT NULL,         -- six-field cron (sec min hour dom month dow)
    time_zone   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per channel and local date: the unique key is what makes a digest post once.
CREATE TABLE digest_runs (
    subscription_id bigint NOT NULL REFERENCES digest_subscriptions(id),
    run_date        date NOT NULL,
    scheduled_at    timestamptz NOT NULL,
    claimed_by      text NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    late            boolean NOT NULL,
    outbox_id       bigint,
    PRIMARY KEY (subscription_id, run_date)
);

-- Append-only history: every command, button, automatic step and refusal.
CREATE TABLE actions (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_platform  text NOT NULL,
    actor_id        text NOT NULL,
    actor_name      text NOT NULL,
    channel         text NOT NULL,
    kind            text NOT NULL,
    subject         text,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'refused')),
    details         jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key text UNIQUE
);
CREATE INDEX actions_at ON actions(at);
CREATE INDEX actions_subject ON actions(subject, at);

CREATE FUNCTION actions_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'actions is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER actions_no_update BEFORE UPDATE OR DELETE ON actions
    FOR EACH ROW EXECUTE FUNCTION actions_are_append_only();
CREATE TRIGGER actions_no_truncate BEFORE TRUNCATE ON actions
    FOR EACH STATEMENT EXECUTE FUNCTION actions_are_append_only();
