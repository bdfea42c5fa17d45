-- total_minor(bigint): the sum of amounts in minor units, as a bigint.
--
-- Postgres's own sum(bigint) widens to numeric, and its running state is a separate
-- allocation per group; the digest sums eleven figures for every account with a balance, so
-- at a million accounts its aggregate spilled twice as much to disk as it needed to. This one
-- keeps a plain bigint per figure. int8pl checks for overflow: a total past 2^63 minor units
-- is an error, never a wrapped number. Like sum, it is NULL over no rows.
CREATE AGGREGATE total_minor(bigint) (
    SFUNC = int8pl,
    STYPE = bigint,
    COMBINEFUNC = int8pl,
    PARALLEL = SAFE
);
