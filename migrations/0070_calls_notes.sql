-- Calls and notes on an account (issue 12): every call with who called and when, its outcome,
-- and the day to call back when one was agreed; free notes. Times are the app's clock, so the
-- timeline orders them with the action rows that record them.
CREATE TABLE calls (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id),
    contact_id   bigint REFERENCES contacts(id),   -- the contact called (the primary one)
    outcome      text NOT NULL CHECK (outcome IN ('reached', 'voicemail', 'no_answer', 'wrong_number',
                                                   'promised', 'disputed', 'copy_requested', 'call_back')),
    callback_on  date,
    note         text,
    called_by    text NOT NULL,
    called_at    timestamptz NOT NULL,
    CHECK ((outcome = 'call_back') = (callback_on IS NOT NULL))
);
CREATE INDEX calls_account ON calls(account_id, called_at);
CREATE INDEX calls_callback ON calls(callback_on) WHERE callback_on IS NOT NULL;

CREATE TABLE notes (
    id           bigserial PRIMARY KEY,
    account_id   bigint NOT NULL REFERENCES accounts(id),
    body         text NOT NULL CHECK (length(btrim(body)) > 0),
    written_by   text NOT NULL,
    written_at   timestamptz NOT NULL
);
CREATE INDEX notes_account ON notes(account_id, written_at);

-- A call that reached a wrong number marks the contact's phone for checking: the card shows
-- it, and nothing may text or call that number until it is fixed (a new phone imported makes
-- a new primary contact row) or a later call reaches the customer on it.
ALTER TABLE contacts ADD COLUMN phone_check_needed boolean NOT NULL DEFAULT false;
