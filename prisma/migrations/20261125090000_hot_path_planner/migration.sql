-- The hot-path functions look rows up by id only, yet their cached generic plans scanned tables.
--
-- Where autovacuum does not run (these machines have it off; a fresh database has not been
-- analyzed yet), the planner knows nothing of the tables' sizes and prices a sequential scan of
-- Task, or a hash join against it, below a handful of primary-key probes. Measured with the
-- functions called straight through the driver (8 clients, 2,000 tasks, PostgreSQL 15): every
-- claim and every completion read all 2,000 Task rows twice over, and each cycle cost about
-- 8 ms of database CPU.
--
-- The planner settings below apply only while these two functions run (a function's SET clause
-- is in force for its own statements, then reverts). They do not forbid anything: a scan that
-- has no index to use still happens; they make the planner prefer index probes and nested loops,
-- which is what a lookup of a few ids by key is. Same measurement: 180 → 234–278 cycles/s, and
-- the database's CPU per cycle down by a third. The claim's candidate query is planned afresh on
-- every call (EXECUTE) and walks Task_claimable_idx either way.
ALTER FUNCTION "swarmgraph_claim_tasks"(text, text, text, text, text[], integer, integer, text[])
  SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off;
ALTER FUNCTION "swarmgraph_complete_tasks"(text, text, text[], text[], jsonb[])
  SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off;
