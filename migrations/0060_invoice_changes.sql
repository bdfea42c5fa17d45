-- Invoice changes from a billing system: amount corrections, credit notes, voids and
-- write-offs. `void` and `credited` (a credit note covered what was open) and `autocharge`
-- (charged automatically: not chased until a charge fails) join the statuses that nothing
-- chases; only 'open', 'disputed' and 'with_agency' are chased, as before.
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check
    CHECK (status IN ('open', 'paid', 'disputed', 'written_off', 'with_agency', 'void', 'credited', 'autocharge'));
-- A credit note for the whole amount leaves nothing to pay.
ALTER TABLE invoices DROP CONSTRAINT invoices_amount_minor_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_minor_check CHECK (amount_minor >= 0);
-- Why an invoice left the chase ("voided in Stripe", "written off: customer insolvent").
ALTER TABLE invoices ADD COLUMN closed_reason text;

CREATE TABLE invoice_changes (
    id            bigserial PRIMARY KEY,
    -- NULL only for a billing system's credit note that arrived before its invoice: it waits,
    -- named by `external_invoice`, and counts when the invoice comes.
    invoice_id    bigint REFERENCES invoices(id),
    external_invoice text,
    kind          text NOT NULL CHECK (kind IN ('amount', 'credit_note', 'void', 'write_off', 'refund')),
    -- amount: the new amount; credit_note and refund: the amount credited or refunded.
    amount_minor  bigint,
    before_minor  bigint NOT NULL,
    status_before text NOT NULL,
    status_after  text NOT NULL,
    reason        text,
    -- the billing system's id for the change (a credit note's id): one change per reference.
    reference     text,
    actor         text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX invoice_changes_invoice ON invoice_changes(invoice_id);
CREATE UNIQUE INDEX invoice_changes_reference ON invoice_changes(kind, reference) WHERE reference IS NOT NULL;
