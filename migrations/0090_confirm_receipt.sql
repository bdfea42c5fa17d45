-- Confirm receipt (stage 2): a few business days after an invoice is issued the team asks the
-- customer whether it arrived. One answer per invoice (the latest; every answer is also in
-- the action log), and at most one "did you receive it?" email per invoice.
CREATE TABLE receipt_answers (
    invoice_id   bigint PRIMARY KEY REFERENCES invoices(id),
    answer       text NOT NULL CHECK (answer IN ('received', 'missing', 'question')),
    note         text,
    answered_by  text NOT NULL,
    answered_at  timestamptz NOT NULL
);

CREATE TABLE receipt_asks (
    invoice_id   bigint PRIMARY KEY REFERENCES invoices(id),
    outbox_id    bigint,
    asked_on     date NOT NULL
);

-- The customers import used to copy the customer's name into the contact's: a contact name
-- now greets a person ("Dear Jane Smith,"), so a copy of the customer's name is no name.
UPDATE contacts c SET name = NULL FROM accounts a WHERE a.id = c.account_id AND c.name = a.name;
