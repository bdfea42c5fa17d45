-- Which Stripe object is which dunbot row: customers are accounts, invoices are invoices.
-- Kept apart from the ledger tables so the bulk invoice loader's keys stay as they are.
CREATE TABLE external_ids (
    source       text NOT NULL,            -- 'stripe'
    external_id  text NOT NULL,            -- cus_..., in_...
    kind         text NOT NULL CHECK (kind IN ('account', 'invoice')),
    local_id     bigint NOT NULL,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX external_ids_local ON external_ids(kind, local_id);

-- A backfill's place: the resource being listed and the last object id applied, written in
-- the transaction of that page, so a crashed sync resumes after the last page it applied.
CREATE TABLE sync_state (
    source          text PRIMARY KEY,
    run_started_at  timestamptz,           -- NULL: no run in progress
    since           timestamptz,
    resource        text,
    cursor          text,
    pages           bigint NOT NULL DEFAULT 0,
    last_success_at timestamptz            -- the ledger is as fresh as this
);
