-- Payment plans (`ar plan`): a total split into installments on a cadence. The schedule is a
-- pure function of the row (`domain::plan::schedule`), so it is not stored. The installment
-- that is open is tracked as a promise-to-pay (promises.plan_id) of the plan's cumulative
-- amount to date: it pauses chasing like any promise, and a broken one counts toward repeat
-- delinquency like any broken promise. Only one installment is open at a time.
CREATE TABLE plans (
    id                 bigserial PRIMARY KEY,
    account_id         bigint NOT NULL REFERENCES accounts(id),
    total_minor        bigint NOT NULL CHECK (total_minor > 0),
    currency           char(3) NOT NULL,
    installments       integer NOT NULL CHECK (installments > 0),
    cadence            text NOT NULL CHECK (cadence IN ('weekly', 'biweekly', 'monthly')),
    first_due          date NOT NULL,
    -- Payments from this day on count toward the plan.
    started_on         date NOT NULL,
    note               text,
    -- proposed: waits for a manager (DUNBOT_PLAN_APPROVAL_OVER); active: being paid;
    -- kept: all paid; broken: an installment was missed; cancelled / rejected: ended by a person.
    status             text NOT NULL CHECK (status IN ('proposed', 'active', 'kept', 'broken', 'cancelled', 'rejected')),
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL,
    decided_by         text,
    decided_at         timestamptz,
    closed_at          timestamptz,
    -- Why it was cancelled or rejected.
    close_reason       text,
    broken_installment integer
);
-- At most one live plan (proposed or active) per account.
CREATE UNIQUE INDEX plans_one_live ON plans(account_id) WHERE status IN ('proposed', 'active');

ALTER TABLE promises
    ADD COLUMN plan_id bigint REFERENCES plans(id),
    ADD COLUMN installment integer,
    ADD CONSTRAINT promises_installment_of_plan CHECK ((plan_id IS NULL) = (installment IS NULL));
CREATE UNIQUE INDEX promises_plan_installment ON promises(plan_id, installment) WHERE plan_id IS NOT NULL;
