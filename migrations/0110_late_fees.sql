-- Late fees and interest (the policy file's [late_fees] table).
-- fee_waivers: a manager's waiver of an invoice's fees or interest, once per part.
-- invoice_charges: how an invoice's payments were applied under the fee policy (interest, fees,
-- principal), rewritten in the transaction that records a payment or a waiver.

CREATE TABLE fee_waivers (
    id          bigserial PRIMARY KEY,
    invoice_id  bigint NOT NULL REFERENCES invoices(id),
    part        text NOT NULL CHECK (part IN ('fees', 'interest')),
    -- What the part came to when waived (collected or not), in the invoice's currency.
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    reason      text NOT NULL CHECK (reason <> ''),
    waived_by   text NOT NULL,
    waived_on   date NOT NULL,
    waived_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (invoice_id, part)
);

CREATE TABLE invoice_charges (
    invoice_id          bigint PRIMARY KEY REFERENCES invoices(id),
    fees_paid_minor     bigint NOT NULL DEFAULT 0,
    interest_paid_minor bigint NOT NULL DEFAULT 0,
    principal_paid_minor bigint NOT NULL DEFAULT 0,
    as_of               date NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
