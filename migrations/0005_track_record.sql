-- Each account's count of invoices paid after their due date (its track record), kept up to date
-- by Postgres as invoices change, so that the digest reads only unpaid invoices instead of the
-- whole history.
ALTER TABLE accounts ADD COLUMN late_paid_count int NOT NULL DEFAULT 0;

UPDATE accounts a SET late_paid_count = l.n
  FROM (SELECT account_id, count(*) AS n FROM invoices
         WHERE status = 'paid' AND paid_on > due GROUP BY account_id) l
 WHERE l.account_id = a.id;

-- Statement-level with transition tables: a payment import touching many invoices updates each
-- account once.
CREATE FUNCTION invoices_count_late_paid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        UPDATE accounts a SET late_paid_count = a.late_paid_count + d.n
          FROM (SELECT n.account_id,
                       sum(coalesce(n.status = 'paid' AND n.paid_on > n.due, false)::int
                         - coalesce(o.status = 'paid' AND o.paid_on > o.due, false)::int) AS n
                  FROM new_rows n JOIN old_rows o ON o.id = n.id
                 GROUP BY n.account_id) d
         WHERE a.id = d.account_id AND d.n <> 0;
    ELSE
        UPDATE accounts a SET late_paid_count = a.late_paid_count - d.n
          FROM (SELECT account_id, count(*) AS n FROM old_rows
                 WHERE status = 'paid' AND paid_on > due GROUP BY account_id) d
         WHERE a.id = d.account_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER invoices_late_paid_update AFTER UPDATE ON invoices
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invoices_count_late_paid();
CREATE TRIGGER invoices_late_paid_delete AFTER DELETE ON invoices
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION invoices_count_late_paid();

-- Invoices enter the ledger unpaid (imports leave status and paid_on to their defaults); one
-- inserted already paid late is counted too, row by row, which costs nothing for the others.
CREATE FUNCTION invoices_count_late_paid_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts SET late_paid_count = late_paid_count + 1 WHERE id = NEW.account_id;
    RETURN NULL;
END $$;
CREATE TRIGGER invoices_late_paid_insert AFTER INSERT ON invoices
    FOR EACH ROW WHEN (NEW.status = 'paid' AND NEW.paid_on > NEW.due)
    EXECUTE FUNCTION invoices_count_late_paid_insert();
