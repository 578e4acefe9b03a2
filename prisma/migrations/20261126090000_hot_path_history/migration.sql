-- The completion's cost grew with the workspace's history. Measured with auto_explain on a
-- workspace of 1,500 finished tasks: every completion read all of them twice, once through
-- Task_workspaceId_createdAt_idx (its `locked` CTE) and once through the workspace's TASK
-- allocations (the release), and its idle check walked every Agent status index entry ever
-- written. So a workspace with 100,000 finished tasks paid for 100,000 rows on each completion.
--
-- Why: on tables the planner has no statistics for (autovacuum is off on these machines; a new
-- database is never analyzed) it estimates `"workspaceId" = $1` or `status = 'BUSY'` at one
-- row, and a cached generic plan prices `id = ANY ($ids)` at ten. It then prefers the index on
-- the workspace or status and filters the ids out of everything it finds.
--
-- The fix does not depend on statistics:
-- - A condition that only checks a row already found by its key is written `IS NOT DISTINCT
--   FROM`, which no index serves (for the non-null values compared here it means `=`). The
--   planner can then reach the row only through its key: Task and Agent by primary key.
-- - The release finds each holder's open allocations in a LATERAL subquery per task id (OFFSET 0
--   keeps it from being merged into the outer query), which can only be an index probe on all
--   three columns of Allocation_workspaceId_holderType_holderId_idx, and updates them by primary
--   key. Its re-check that an allocation is still open compares with the value the probe read,
--   so that no index on releasedAt can serve it either.
-- test/hotPath.history.test.ts completes a task in a workspace with a long history and counts
-- the rows the completion reads.
--
-- The functions are those of migration hot_path_plans with these changes; the planner settings
-- of migration hot_path_planner are part of their definition now.

CREATE OR REPLACE FUNCTION "swarmgraph_claim_tasks"(
  p_workspace text, p_actor text, p_agent text, p_swarm text, p_types text[], p_max integer, p_lease_seconds integer, p_tokens text[]
) RETURNS SETOF "Task"
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_capabilities text[];
  v_status text;
  v_quota "Quota"%ROWTYPE;
  v_room integer;
  v_ids text[];
  v_count integer;
  v_allocated integer;
  v_was_idle boolean;
BEGIN
  SELECT capabilities, status::text INTO v_capabilities, v_status
  FROM "Agent" WHERE id = p_agent AND "workspaceId" = p_workspace FOR NO KEY UPDATE;
  IF NOT FOUND OR v_status NOT IN ('IDLE', 'BUSY') THEN
    RAISE EXCEPTION 'agent may not claim' USING ERRCODE = 'SG001';
  END IF;
  SELECT * INTO v_quota FROM "Quota" WHERE "workspaceId" = p_workspace AND resource = 'tasks.running';
  IF NOT FOUND OR v_quota.kind <> 'CAPACITY' THEN
    RAISE EXCEPTION 'tasks.running quota row missing' USING ERRCODE = 'SG001';
  END IF;
  v_room := LEAST(p_max, v_quota."limit" - v_quota.allocated);

  -- Planned afresh on every call (EXECUTE), with the filter's actual values: a plan cached for
  -- unknown values misjudges how selective they are and sorts every pending task instead of
  -- walking Task_claimable_idx in claim order and stopping at the limit.
  EXECUTE $candidate$
    WITH candidate AS (
      SELECT t.id, t."priorityRank", t."createdAt" FROM "Task" t
      WHERE t."workspaceId" = $1 AND t.status = 'PENDING' AND t."availableAt" <= now()
        AND t."requiredCapabilities" <@ $2
        AND (t."reservedForId" IS NULL OR t."reservedForId" = $3)
        AND ($4::text IS NULL OR t."swarmId" = $4)
        AND ($5::text[] IS NULL OR t.type = ANY ($5))
        AND (t."swarmId" IS NULL OR NOT EXISTS (SELECT 1 FROM "Swarm" s WHERE s.id = t."swarmId" AND s.status = 'PAUSED'))
      ORDER BY t."priorityRank" DESC, t."createdAt" ASC, t.id ASC
      LIMIT $6
      FOR UPDATE OF t SKIP LOCKED
    )
    SELECT array_agg(id ORDER BY "priorityRank" DESC, "createdAt" ASC, id ASC) FROM candidate
  $candidate$
  INTO v_ids
  USING p_workspace, v_capabilities, p_agent, p_swarm, p_types, GREATEST(v_room, 1);
  IF v_ids IS NULL THEN
    RETURN;
  END IF;
  IF v_room < 1 THEN
    RAISE EXCEPTION 'tasks.running quota full' USING ERRCODE = 'SG001';
  END IF;
  v_count := cardinality(v_ids);

  WITH claimed AS (
    UPDATE "Task" t SET status = 'CLAIMED', "assigneeId" = p_agent, "leaseToken" = p_tokens[k.ord],
      "leaseExpiresAt" = now() + make_interval(secs => p_lease_seconds), fence = t.fence + 1,
      "attemptCount" = t."attemptCount" + 1, "claimedAt" = now(), "updatedAt" = now()
    FROM unnest(v_ids) WITH ORDINALITY AS k(id, ord)
    WHERE t.id = k.id
    RETURNING t.id, t.fence
  )
  INSERT INTO "TaskAttempt" (id, "workspaceId", "taskId", "agentId", fence, "claimedAt")
  SELECT "swarmgraph_uuid7"(), p_workspace, id, p_agent, fence, now() FROM claimed;

  UPDATE "Agent" SET status = 'BUSY', "updatedAt" = now() WHERE id = p_agent AND status IS NOT DISTINCT FROM 'IDLE';
  v_was_idle := FOUND;

  -- Last: the row every claim and completion of the workspace needs, held from here to commit
  -- (only this function's remaining statements run meanwhile, never a round trip). It is locked
  -- before the allocations are inserted: their foreign key check takes a KEY SHARE lock on it,
  -- and a claim holding that lock while it waits to upgrade it deadlocks with a general-path
  -- transaction queued for the row in between.
  UPDATE "Quota" SET allocated = allocated + v_count, "updatedAt" = now()
  WHERE id = v_quota.id AND allocated + v_count <= "limit"
  RETURNING allocated INTO v_allocated;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'tasks.running quota filled concurrently' USING ERRCODE = 'SG001';
  END IF;
  INSERT INTO "Allocation" (id, "workspaceId", "quotaId", resource, "holderType", "holderId", requested, granted, "createdAt")
  SELECT "swarmgraph_uuid7"(), p_workspace, v_quota.id, 'tasks.running', 'TASK', id, 1, 1, now() FROM unnest(v_ids) AS k(id);

  INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
  SELECT p_workspace, e.topic, e.type, e."entityId", e.payload, p_actor, now()
  FROM "Task" t JOIN unnest(v_ids) WITH ORDINALITY AS k(id, ord) ON t.id = k.id
  CROSS JOIN LATERAL (VALUES
    (0, 'task', 'task.claimed', t.id, jsonb_build_object('agentId', p_agent, 'attempt', t."attemptCount", 'fence', t.fence)),
    (1, 'agent', 'agent.status', p_agent, jsonb_build_object('from', 'IDLE', 'to', 'BUSY')),
    (2, 'quota', 'quota.allocated', v_quota.id, jsonb_build_object('resource', 'tasks.running', 'holderType', 'TASK', 'holderId', t.id,
      'requested', 1, 'granted', 1, 'inUse', v_allocated - v_count + k.ord, 'limit', v_quota."limit"))
  ) AS e(n, topic, type, "entityId", payload)
  WHERE e.n <> 1 OR (k.ord = 1 AND v_was_idle)
  ORDER BY k.ord, e.n;

  RETURN QUERY SELECT t.* FROM "Task" t JOIN unnest(v_ids) WITH ORDINALITY AS k(id, ord) ON t.id = k.id ORDER BY k.ord;
END
$$;

CREATE OR REPLACE FUNCTION "swarmgraph_complete_tasks"(
  p_workspace text, p_actor text, p_ids text[], p_tokens text[], p_results jsonb[]
) RETURNS SETOF "Task"
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_ids text[];
  v_agents text[];
  v_quota_ids text[];
  v_units integer[];
BEGIN
  WITH locked AS (
    SELECT t.id, t."leaseToken", t.status, t."leaseExpiresAt", t."correlationId", t."assigneeId" FROM "Task" t
    WHERE t.id = ANY (p_ids) AND t."workspaceId" IS NOT DISTINCT FROM p_workspace
    ORDER BY t.id FOR UPDATE OF t
  )
  SELECT array_agg(l.id ORDER BY l.id), array_agg(DISTINCT l."assigneeId") INTO v_ids, v_agents
  FROM locked l JOIN unnest(p_ids, p_tokens) AS k(id, token) ON k.id = l.id
  WHERE l."leaseToken" = k.token AND l.status IN ('CLAIMED', 'RUNNING') AND l."leaseExpiresAt" > now()
    AND l."correlationId" IS NULL
    AND NOT EXISTS (SELECT 1 FROM "TaskDependency" d WHERE d."dependsOnId" = l.id);
  IF v_ids IS NULL THEN
    RETURN;
  END IF;

  -- `held` reads the rows as they were before this statement (its snapshot): the holder's id.
  WITH held AS (
    SELECT t.id, t."assigneeId", t.fence FROM "Task" t WHERE t.id = ANY (v_ids)
  ), completed AS (
    UPDATE "Task" t SET status = 'COMPLETED', progress = 1, result = COALESCE(k.result, t.result),
      "completedAt" = now(), "startedAt" = COALESCE(t."startedAt", now()),
      "assigneeId" = NULL, "leaseToken" = NULL, "leaseExpiresAt" = NULL, "updatedAt" = now()
    FROM unnest(p_ids, p_results) AS k(id, result)
    WHERE t.id = k.id AND t.id = ANY (v_ids)
    RETURNING t.id
  ), attempts AS (
    UPDATE "TaskAttempt" a SET "endedAt" = now(), outcome = 'COMPLETED'
    FROM held h WHERE a."taskId" = h.id AND a.fence = h.fence AND a."endedAt" IS NULL
  )
  INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
  SELECT p_workspace, 'task', 'task.completed', c.id, jsonb_build_object('agentId', h."assigneeId"), p_actor, now()
  FROM completed c JOIN held h ON h.id = c.id ORDER BY c.id;

  -- Holders that hold nothing more become IDLE. The agent rows are locked first, so that the
  -- check (a later statement, with a newer snapshot) sees a claim of the same agent that
  -- committed while this function waited for the lock.
  PERFORM 1 FROM "Agent" ag JOIN unnest(v_agents) AS h(id) ON ag.id = h.id ORDER BY ag.id FOR NO KEY UPDATE OF ag;
  WITH idle AS (
    UPDATE "Agent" ag SET status = 'IDLE', "updatedAt" = now()
    WHERE ag.id = ANY (v_agents) AND ag.status IS NOT DISTINCT FROM 'BUSY'
      AND NOT EXISTS (SELECT 1 FROM "Task" t WHERE t."assigneeId" = ag.id AND t.status IN ('CLAIMED', 'RUNNING'))
    RETURNING ag.id
  )
  INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
  SELECT p_workspace, 'agent', 'agent.status', idle.id, jsonb_build_object('from', 'BUSY', 'to', 'IDLE'), p_actor, now()
  FROM idle ORDER BY idle.id;

  -- What the tasks held is given back; their quota rows are locked last, in resource order.
  WITH released AS (
    UPDATE "Allocation" al SET "releasedAt" = now()
    FROM unnest(v_ids) AS h(id)
      CROSS JOIN LATERAL (
        SELECT a.id, a."releasedAt" FROM "Allocation" a
        WHERE a."workspaceId" = p_workspace AND a."holderType" = 'TASK' AND a."holderId" = h.id AND a."releasedAt" IS NULL
        OFFSET 0
      ) held,
      "Quota" q
    WHERE al.id = held.id AND al."releasedAt" IS NOT DISTINCT FROM held."releasedAt" AND q.id = al."quotaId" AND q.kind = 'CAPACITY'
    RETURNING al."quotaId", al.resource, al."holderId", al.granted
  ), events AS (
    INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
    SELECT p_workspace, 'quota', 'quota.released', r."quotaId",
      jsonb_build_object('resource', r.resource, 'holderType', 'TASK', 'holderId', r."holderId", 'amount', r.granted), p_actor, now()
    FROM released r ORDER BY r."holderId", r.resource
  ), per_quota AS (
    SELECT r."quotaId", min(r.resource) AS resource, sum(r.granted)::integer AS units FROM released r GROUP BY r."quotaId"
  )
  SELECT array_agg("quotaId" ORDER BY resource), array_agg(units ORDER BY resource) INTO v_quota_ids, v_units FROM per_quota;
  IF v_quota_ids IS NOT NULL THEN
    PERFORM 1 FROM "Quota" WHERE id = ANY (v_quota_ids) ORDER BY resource FOR NO KEY UPDATE;
    UPDATE "Quota" q SET allocated = GREATEST(q.allocated - u.units, 0), "updatedAt" = now()
    FROM unnest(v_quota_ids, v_units) AS u(id, units) WHERE q.id = u.id;
  END IF;

  RETURN QUERY SELECT t.* FROM "Task" t WHERE t.id = ANY (v_ids) ORDER BY t.id;
END
$$;
