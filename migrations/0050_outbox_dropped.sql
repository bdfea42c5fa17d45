-- A reminder checked against the ledger at send time may have nothing left to say (the customer
-- paid, the invoice was voided or written off, a promise was logged since it was queued). Such a
-- row is not sent and not failed either: it ends as 'dropped', with the reason in last_error
-- ("not sent: paid since queued"), so `dunbot outbox` and the account card can show why.
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sent', 'dead', 'dropped'));
