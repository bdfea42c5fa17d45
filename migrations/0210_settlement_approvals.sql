-- Tiered settlement approval: a new finance role, the balance each offer was measured against
-- (its share decides the approval limit, so a later payment does not move an offer between
-- tiers), and each approval given before the decision is final.
ALTER TABLE people DROP CONSTRAINT people_role_check;
ALTER TABLE people ADD CONSTRAINT people_role_check
    CHECK (role IN ('collector', 'manager', 'agency', 'admin', 'finance'));

ALTER TABLE offers ADD COLUMN balance_minor bigint;

CREATE TABLE offer_approvals (
    offer_id          bigint NOT NULL REFERENCES offers(id),
    approver_platform text NOT NULL,
    approver_id       text NOT NULL,
    approver_name     text NOT NULL,
    roles             text[] NOT NULL,
    approved_at       timestamptz NOT NULL,
    seq               bigserial NOT NULL,   -- the order they were given (clocks may tie)
    PRIMARY KEY (offer_id, approver_platform, approver_id)
);
