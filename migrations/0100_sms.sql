-- Text messages (Twilio). Consent is kept per account and phone number (E.164), apart from the
-- contact rows an import replaces: a new email for the same number keeps its consent, a new
-- number starts without. `stopped` is the customer's own STOP: an import saying "consent yes"
-- never overrides it; only the customer's START or a person's `ar contact … sms on` does.
CREATE TABLE sms_consents (
    account_id  bigint NOT NULL REFERENCES accounts(id),
    phone       text NOT NULL,              -- E.164, e.g. +15558675310
    consent     boolean NOT NULL,
    stopped     boolean NOT NULL DEFAULT false,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text NOT NULL,              -- "import", "api:<token>", a person, "customer via Twilio"
    PRIMARY KEY (account_id, phone)
);
CREATE INDEX sms_consents_phone ON sms_consents(phone);

-- A text's Twilio message sid (`SM…`), so a status callback finds its outbox row, and the last
-- status Twilio reported (queued, sent, delivered, undelivered, failed).
ALTER TABLE outbox ADD COLUMN provider_id text;
ALTER TABLE outbox ADD COLUMN delivery_status text;
CREATE UNIQUE INDEX outbox_provider_id ON outbox(provider_id) WHERE provider_id IS NOT NULL;
-- The account card lists an account's texts.
CREATE INDEX outbox_sms_account ON outbox (((payload->>'account_id')::int8), id) WHERE kind = 'sms';
