-- Subscription admission in one statement. Admitting a subscription locked the workspace's
-- `subscriptions` quota row in an interactive transaction and kept it locked across three more
-- round trips to Node (count, insert, commit): 1,000 clients subscribing at once (a dashboard
-- fleet, or every client reconnecting after a deploy) queued on that row for about 8 s.
--
-- The same steps as one function call, so the row is locked only while PostgreSQL runs them:
-- lock the quota row (materializing the default on first use), count the open subscriptions of
-- live replicas, insert one more when the count is under the limit.
--
-- Why the count is exact under concurrency: every admission of the workspace, on any replica,
-- first locks the quota row, so they run one at a time. In READ COMMITTED, a VOLATILE plpgsql
-- function takes a fresh snapshot for each statement it runs ("Function Volatility Categories"
-- in PostgreSQL's manual), so the count, taken after the lock was granted, sees every admission
-- that committed before it. (A single SQL statement would count with the snapshot taken before
-- it waited for the lock, and miss the admission it waited for.)
CREATE OR REPLACE FUNCTION "swarmgraph_open_subscription"(
  p_id text, p_workspace text, p_subject text, p_replica text, p_default_limit integer, p_stale_seconds integer,
  OUT quota_limit integer, OUT in_use integer, OUT admitted boolean
)
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
  SELECT "limit" INTO quota_limit FROM "Quota"
  WHERE "workspaceId" = p_workspace AND resource = 'subscriptions' FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    -- First use of the default: a concurrent first use waits on the unique index, then skips.
    INSERT INTO "Quota" (id, "workspaceId", resource, kind, "limit", "updatedAt")
    VALUES ("swarmgraph_uuid7"(), p_workspace, 'subscriptions', 'CAPACITY', p_default_limit, now())
    ON CONFLICT ("workspaceId", resource) DO NOTHING;
    SELECT "limit" INTO quota_limit FROM "Quota"
    WHERE "workspaceId" = p_workspace AND resource = 'subscriptions' FOR NO KEY UPDATE;
  END IF;
  SELECT count(*) INTO in_use
  FROM "OpenSubscription" o JOIN "Replica" r ON r.id = o."replicaId"
  WHERE o."workspaceId" = p_workspace AND r."heartbeatAt" >= now() - make_interval(secs => p_stale_seconds);
  admitted := in_use < quota_limit;
  IF admitted THEN
    INSERT INTO "OpenSubscription" (id, "workspaceId", subject, "replicaId") VALUES (p_id, p_workspace, p_subject, p_replica);
  END IF;
END $$;
