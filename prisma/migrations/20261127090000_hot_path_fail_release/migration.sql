-- failTask and releaseTask on the hot path: one statement each, like claims and completions.
--
-- Through Prisma, each was an interactive transaction of 10–14 statements (lock the task, check
-- the lease, end the attempt, update the task, write the event, lock the agent and count what it
-- still holds, then for every open allocation lock the quota row, release it, update the counter
-- and write the event), and the workspace's tasks.running row stayed locked from its update to a
-- COMMIT one round trip to Node later. A worker whose tasks fail or are handed back paid that on
-- every one, and held up every claim of its workspace meanwhile.
--
-- The function does the ordinary case only, as swarmgraph_complete_tasks does, in the same lock
-- order (the task, then its holder, the quota rows last) and with the same planner settings (see
-- migrations hot_path_planner and hot_path_history: lookups stay key probes on an unanalyzed
-- database). It changes nothing and returns no row when the general path in
-- src/modules/tasks/service.ts must decide: the caller no longer holds the task (the general
-- path says why: LeaseLostError), or the task ends FAILED for good while it takes part in a
-- blackboard correlation or has dependents (those are settled or cancelled there).
--
-- p_outcome 'RELEASED' (releaseTask): PENDING again at once, the attempt does not count, only the
-- tasks.running slot is given back. p_outcome 'FAILED' (failTask): with p_retryable and attempts
-- left, PENDING again after base × 2^(attempt−1) seconds (capped at 64 × base, as
-- retryDelaySeconds in service.ts) holding only its other allocations; otherwise FAILED, and
-- everything it held is given back.
CREATE OR REPLACE FUNCTION "swarmgraph_give_back_task"(
  p_workspace text, p_actor text, p_id text, p_token text, p_outcome text, p_error jsonb, p_retryable boolean, p_retry_base_seconds double precision
) RETURNS SETOF "Task"
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_task "Task"%ROWTYPE;
  v_status text;
  v_event text;
  v_payload jsonb;
  v_quota_ids text[];
  v_units integer[];
BEGIN
  IF p_outcome NOT IN ('FAILED', 'RELEASED') THEN
    RAISE EXCEPTION 'unknown outcome %', p_outcome;
  END IF;
  SELECT * INTO v_task FROM "Task" t
  WHERE t.id = p_id AND t."workspaceId" IS NOT DISTINCT FROM p_workspace FOR UPDATE OF t;
  IF NOT FOUND OR v_task."leaseToken" IS DISTINCT FROM p_token OR v_task.status NOT IN ('CLAIMED', 'RUNNING')
    OR v_task."leaseExpiresAt" IS NULL OR v_task."leaseExpiresAt" <= now() THEN
    RETURN;
  END IF;

  IF p_outcome = 'RELEASED' THEN
    v_status := 'PENDING';
    v_event := 'task.released';
    v_payload := jsonb_build_object('agentId', v_task."assigneeId");
  ELSIF p_retryable AND v_task."attemptCount" < v_task."maxAttempts" THEN
    v_status := 'PENDING';
    v_event := 'task.retry_scheduled';
    v_payload := jsonb_build_object('retryable', p_retryable, 'attempt', v_task."attemptCount");
  ELSE
    IF v_task."correlationId" IS NOT NULL OR EXISTS (SELECT 1 FROM "TaskDependency" d WHERE d."dependsOnId" = v_task.id) THEN
      RETURN;
    END IF;
    v_status := 'FAILED';
    v_event := 'task.failed';
    v_payload := jsonb_build_object('retryable', p_retryable, 'attempt', v_task."attemptCount");
  END IF;

  UPDATE "Task" t SET status = v_status::"TaskStatus",
    "attemptCount" = CASE WHEN p_outcome = 'RELEASED' THEN t."attemptCount" - 1 ELSE t."attemptCount" END,
    "availableAt" = CASE
      WHEN p_outcome = 'RELEASED' THEN now()
      WHEN v_status = 'PENDING' THEN now() + make_interval(secs => p_retry_base_seconds * 2 ^ LEAST(GREATEST(t."attemptCount" - 1, 0), 6))
      ELSE t."availableAt" END,
    error = CASE WHEN p_outcome = 'FAILED' THEN p_error ELSE t.error END,
    "failedAt" = CASE WHEN v_status = 'FAILED' THEN now() ELSE t."failedAt" END,
    "assigneeId" = NULL, "leaseToken" = NULL, "leaseExpiresAt" = NULL, "updatedAt" = now()
  WHERE t.id = v_task.id;
  UPDATE "TaskAttempt" a SET "endedAt" = now(), outcome = p_outcome::"AttemptOutcome", error = COALESCE(p_error, a.error)
  WHERE a."taskId" = v_task.id AND a.fence = v_task.fence AND a."endedAt" IS NULL;
  INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
  VALUES (p_workspace, 'task', v_event, v_task.id, v_payload, p_actor, now());

  -- The holder becomes IDLE when it holds nothing more: its row is locked first, so that the
  -- check (a later statement, with a newer snapshot) sees a claim of it that committed meanwhile.
  PERFORM 1 FROM "Agent" ag WHERE ag.id = v_task."assigneeId" FOR NO KEY UPDATE OF ag;
  WITH idle AS (
    UPDATE "Agent" ag SET status = 'IDLE', "updatedAt" = now()
    WHERE ag.id = v_task."assigneeId" AND ag.status IS NOT DISTINCT FROM 'BUSY'
      AND NOT EXISTS (SELECT 1 FROM "Task" t WHERE t."assigneeId" = ag.id AND t.status IN ('CLAIMED', 'RUNNING'))
    RETURNING ag.id
  )
  INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
  SELECT p_workspace, 'agent', 'agent.status', idle.id, jsonb_build_object('from', 'BUSY', 'to', 'IDLE'), p_actor, now() FROM idle;

  -- What it gives back (its tasks.running slot, or everything when it failed for good); the
  -- quota rows are locked last, in resource order. Probed as in swarmgraph_complete_tasks.
  WITH released AS (
    UPDATE "Allocation" al SET "releasedAt" = now()
    FROM (
      SELECT a.id, a."releasedAt" FROM "Allocation" a
      WHERE a."workspaceId" = p_workspace AND a."holderType" = 'TASK' AND a."holderId" = v_task.id AND a."releasedAt" IS NULL
      OFFSET 0
    ) held, "Quota" q
    WHERE al.id = held.id AND al."releasedAt" IS NOT DISTINCT FROM held."releasedAt" AND q.id = al."quotaId" AND q.kind = 'CAPACITY'
      AND (v_status = 'FAILED' OR al.resource = 'tasks.running')
    RETURNING al."quotaId", al.resource, al."holderId", al.granted
  ), events AS (
    INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
    SELECT p_workspace, 'quota', 'quota.released', r."quotaId",
      jsonb_build_object('resource', r.resource, 'holderType', 'TASK', 'holderId', r."holderId", 'amount', r.granted), p_actor, now()
    FROM released r ORDER BY r.resource
  ), per_quota AS (
    SELECT r."quotaId", min(r.resource) AS resource, sum(r.granted)::integer AS units FROM released r GROUP BY r."quotaId"
  )
  SELECT array_agg("quotaId" ORDER BY resource), array_agg(units ORDER BY resource) INTO v_quota_ids, v_units FROM per_quota;
  IF v_quota_ids IS NOT NULL THEN
    PERFORM 1 FROM "Quota" WHERE id = ANY (v_quota_ids) ORDER BY resource FOR NO KEY UPDATE;
    UPDATE "Quota" q SET allocated = GREATEST(q.allocated - u.units, 0), "updatedAt" = now()
    FROM unnest(v_quota_ids, v_units) AS u(id, units) WHERE q.id = u.id;
  END IF;

  RETURN QUERY SELECT t.* FROM "Task" t WHERE t.id = v_task.id;
END
$$;
