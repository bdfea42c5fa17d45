-- What each invoice's payments were: the late-fee charges read them per page of invoices
-- (`payments_of`), which without this index scans every payment each time.
CREATE INDEX IF NOT EXISTS payments_invoice ON payments(invoice_id);
