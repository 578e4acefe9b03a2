/**
 * Webhooks: HTTP endpoints that receive a workspace's events, signed, in log order, at least once.
 *
 * Vocabulary
 * - endpoint (Webhook): a URL with filters (event types or whole topics, entity ids), a secret
 *                 (and, for a grace period after a rotation, the previous one), ACTIVE or DISABLED.
 * - cursor:       the log position up to which the endpoint's matching events were queued.
 * - delivery:     one event queued for one endpoint (WebhookDelivery); PENDING until the endpoint
 *                 acknowledges it with a 2xx (SUCCEEDED) or it is given up on (FAILED). Its
 *                 `seq` orders the endpoint's queue.
 * - attempt:      one HTTP request of a delivery; failed attempts are retried with backoff.
 * - lease:        which replica delivers for an endpoint right now (`leasedBy`, `leaseExpiresAt`).
 *
 * Order and loss. Only the lease holder moves the cursor and sends, and it sends the endpoint's
 * oldest PENDING delivery only: the next event goes out after the previous one was acknowledged
 * or failed for good. An attempt is counted in the database before the request is sent, so a
 * replica killed mid-request leaves the delivery PENDING and whoever takes the lease next sends it
 * again, with the same `webhook-id`: at least once, deduplicable. The queue and the cursor move
 * in one transaction guarded by the lease, so an event is queued once per pass over the log.
 */
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import type { SqlRunner } from "../../db/sql.ts";
import { IllegalTransitionError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import { Prisma, type Webhook, type WebhookDelivery } from "../../generated/prisma/client.ts";
import { optionalTextRule, parseInput } from "../../validation.ts";
import { AUDIT_DOMAINS, DOMAIN_READ_SCOPE } from "../audit/service.ts";
import { generateSecret, secretProblem } from "./signature.ts";
import { ipLiteral, isPrivateAddress } from "./targets.ts";

/** Event types of the delivery log itself: never delivered to endpoints (a delivery would cause the next). */
export const DELIVERY_EVENT_PREFIX = "webhook.delivery_";
/** Most event type filters per endpoint. */
export const MAX_EVENT_TYPES = 50;
/** Most entity filters per endpoint. */
export const MAX_ENTITY_IDS = 100;
/** Response body bytes kept in the delivery log. */
export const RESPONSE_BODY_BYTES = 2048;
/** Events queued per scan of the log. */
const SCAN_BATCH = 200;
const MAX_GRACE_SECONDS = 30 * 24 * 3600;

export interface WebhookSettings {
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS */
  allowPrivateTargets: boolean;
  /** WEBHOOK_SECRET_GRACE_SECONDS */
  secretGraceSeconds: number;
}

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  disableAfterFailures: number;
  failureWindowSeconds: number;
}

const urlRule = (settings: WebhookSettings) =>
  z
    .string()
    .trim()
    .max(2000, "must be at most 2000 characters")
    .superRefine((value, ctx) => {
      const problem = urlProblem(value, settings);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

function urlProblem(value: string, settings: WebhookSettings): string | null {
  if (!URL.canParse(value)) return "must be an absolute http:// or https:// URL";
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") return `must be an http:// or https:// URL, not ${url.protocol}//`;
  if (url.username || url.password) return "must not carry credentials: the signature authenticates deliveries";
  const ip = ipLiteral(url);
  if (ip && !settings.allowPrivateTargets && isPrivateAddress(ip)) {
    return `${ip} is a private, loopback or link-local address; webhooks reach public addresses only (WEBHOOK_ALLOW_PRIVATE_TARGETS)`;
  }
  return null;
}

const eventTypeRule = z.string().superRefine((value, ctx) => {
  const match = /^([a-z_]+)\.(\*|[a-z_]+)$/.exec(value);
  if (!match) return void ctx.addIssue({ code: "custom", message: `must be an event type like "task.completed" or a whole topic like "task.*"` });
  if (!(AUDIT_DOMAINS as string[]).includes(match[1]!)) return void ctx.addIssue({ code: "custom", message: `unknown topic "${match[1]}"; the topics are ${AUDIT_DOMAINS.join(", ")}` });
  if (value.startsWith(DELIVERY_EVENT_PREFIX)) ctx.addIssue({ code: "custom", message: "delivery events are not sent to webhooks (each delivery would cause another); subscribe to webhookDeliveryEvents" });
});

const filterRules = {
  eventTypes: z.array(eventTypeRule).max(MAX_EVENT_TYPES, `at most ${MAX_EVENT_TYPES} entries`),
  entityIds: z.array(z.string().min(1).max(200)).max(MAX_ENTITY_IDS, `at most ${MAX_ENTITY_IDS} entries`),
};

const secretRule = z.string().superRefine((value, ctx) => {
  const problem = secretProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const descriptionRule = optionalTextRule.max(500, "must be at most 500 characters");

export interface CreateWebhookInput {
  url: string;
  description?: string | null;
  eventTypes?: string[] | null;
  entityIds?: string[] | null;
  secret?: string | null;
  active?: boolean | null;
}

/** A webhook with its secret, returned only by the calls that set one. */
export interface WebhookWithSecret {
  webhook: Webhook;
  secret: string;
}

/** The log head now, after sequencing what committed before the call (a new endpoint starts after it). */
async function currentHead(db: Db): Promise<bigint> {
  for (;;) {
    const [row] = await db.$queryRaw<{ head: bigint | string; moved: bigint | string }[]>`SELECT head, moved FROM "swarmgraph_sequence_events"(1000)`;
    if (Number(row!.moved) < 1000) return BigInt(row!.head);
  }
}

/**
 * Registers an endpoint. It receives the events committed after this call that match its
 * filters. The secret is generated when omitted; it is returned here and never again.
 * @throws InvalidInputError for a bad URL (or a private target), filter or secret
 */
/**
 * @param readable the topics the caller may read (audit's readableDomains of its scopes): the
 *   endpoint receives events of these topics only, and may not name another in `eventTypes`
 */
export async function createWebhook(db: PrismaClient, actor: Actor, input: CreateWebhookInput, settings: WebhookSettings, readable: readonly string[]): Promise<WebhookWithSecret> {
  const valid = parseInput(
    z.object({
      url: urlRule(settings),
      description: descriptionRule.nullish(),
      eventTypes: filterRules.eventTypes.nullish(),
      entityIds: filterRules.entityIds.nullish(),
      secret: secretRule.nullish(),
      active: z.boolean().nullish(),
    }),
    input,
  );
  refuseUnreadableTopics(valid.eventTypes, readable);
  const secret = valid.secret ?? generateSecret();
  const head = await currentHead(db);
  return db.$transaction(async (tx) => {
    const webhook = await tx.webhook.create({
      data: {
        workspaceId: actor.workspaceId,
        url: valid.url,
        description: valid.description || null,
        eventTypes: [...new Set(valid.eventTypes ?? [])],
        entityIds: [...new Set(valid.entityIds ?? [])],
        readableTopics: [...readable],
        secret,
        cursor: head,
        status: valid.active === false ? "DISABLED" : "ACTIVE",
        disabledReason: valid.active === false ? "created inactive" : null,
        disabledAt: valid.active === false ? new Date() : null,
        createdBy: actor.subject,
      },
    });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.created", entityId: webhook.id, payload: { url: webhook.url, eventTypes: webhook.eventTypes, status: webhook.status } });
    return { webhook, secret };
  });
}

/** Locks an endpoint of the workspace. @throws NotFoundError */
async function lockWebhook(tx: Db, actor: Actor, id: string): Promise<Webhook> {
  const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Webhook" WHERE id = ${id} AND "workspaceId" = ${actor.workspaceId} FOR UPDATE`;
  if (!row) throw new NotFoundError("Webhook", id);
  return (await tx.webhook.findUnique({ where: { id } }))!;
}

export interface UpdateWebhookInput {
  url?: string | null;
  description?: string | null;
  eventTypes?: string[] | null;
  entityIds?: string[] | null;
}

/**
 * Changes an endpoint's URL, description or filters; omitted fields stay. New filters apply to
 * events not yet queued.
 * @throws NotFoundError, InvalidInputError
 */
/** @param readable the editor's readable topics: they replace the endpoint's (see createWebhook) */
export async function updateWebhook(db: PrismaClient, actor: Actor, id: string, input: UpdateWebhookInput, settings: WebhookSettings, readable: readonly string[]): Promise<Webhook> {
  const valid = parseInput(
    z.object({ url: urlRule(settings).nullish(), description: descriptionRule.nullish(), eventTypes: filterRules.eventTypes.nullish(), entityIds: filterRules.entityIds.nullish() }),
    input,
  );
  refuseUnreadableTopics(valid.eventTypes, readable);
  return db.$transaction(async (tx) => {
    await lockWebhook(tx, actor, id);
    const webhook = await tx.webhook.update({
      where: { id },
      data: {
        url: valid.url ?? undefined,
        description: valid.description === undefined ? undefined : valid.description || null,
        eventTypes: valid.eventTypes ? [...new Set(valid.eventTypes)] : undefined,
        entityIds: valid.entityIds ? [...new Set(valid.entityIds)] : undefined,
        readableTopics: [...readable],
      },
    });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.updated", entityId: id, payload: { url: webhook.url, eventTypes: webhook.eventTypes } });
    return webhook;
  });
}

/**
 * Replaces the secret. The previous one keeps signing (beside the new one) for `graceSeconds`
 * (default WEBHOOK_SECRET_GRACE_SECONDS; 0 ends it at once), so receivers can switch without
 * refusing a delivery.
 * @throws NotFoundError, InvalidInputError
 */
export async function rotateWebhookSecret(
  db: PrismaClient,
  actor: Actor,
  id: string,
  input: { secret?: string | null; graceSeconds?: number | null },
  settings: WebhookSettings,
): Promise<WebhookWithSecret> {
  const valid = parseInput(
    z.object({ secret: secretRule.nullish(), graceSeconds: z.number().int("must be a whole number").min(0, "must not be negative").max(MAX_GRACE_SECONDS, "must be at most 30 days").nullish() }),
    input,
  );
  const secret = valid.secret ?? generateSecret();
  const grace = valid.graceSeconds ?? settings.secretGraceSeconds;
  return db.$transaction(async (tx) => {
    const current = await lockWebhook(tx, actor, id);
    if (secret === current.secret) throw new InvalidInputError([{ path: "input.secret", message: "is the current secret; give a new one (or omit it to have one generated)" }]);
    const [at] = await tx.$queryRaw<{ expires: Date }[]>`SELECT now() + make_interval(secs => ${grace}::int) AS expires`;
    const webhook = await tx.webhook.update({
      where: { id },
      data: { secret, previousSecret: grace > 0 ? current.secret : null, previousSecretExpiresAt: grace > 0 ? at!.expires : null },
    });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.secret_rotated", entityId: id, payload: { previousSecretExpiresAt: webhook.previousSecretExpiresAt?.toISOString() ?? null } });
    return { webhook, secret };
  });
}

/**
 * Stops deliveries to an ACTIVE endpoint. Its queue and cursor stay: enableWebhook resumes where
 * it stopped, in order.
 * @throws NotFoundError, IllegalTransitionError (already DISABLED)
 */
export async function disableWebhook(db: PrismaClient, actor: Actor, id: string, reason?: string | null): Promise<Webhook> {
  const valid = parseInput(z.object({ reason: descriptionRule.nullish() }), { reason });
  return db.$transaction(async (tx) => {
    const current = await lockWebhook(tx, actor, id);
    if (current.status !== "ACTIVE") throw new IllegalTransitionError("Webhook", id, current.status, "disableWebhook", ["ACTIVE"]);
    return markDisabled(tx, actor, id, valid.reason || `disabled by ${actor.subject}`, false);
  });
}

async function markDisabled(tx: Db, actor: Actor, id: string, reason: string, automatic: boolean): Promise<Webhook> {
  const webhook = await tx.webhook.update({ where: { id }, data: { status: "DISABLED", disabledReason: reason, disabledAt: new Date() } });
  await recordEvent(tx, actor, { topic: "webhook", type: "webhook.disabled", entityId: id, payload: { reason, automatic, consecutiveFailures: webhook.consecutiveFailures } });
  return webhook;
}

/**
 * Resumes a DISABLED endpoint: its oldest undelivered event goes out next (at once), and the
 * failure count starts over.
 * @throws NotFoundError, IllegalTransitionError (already ACTIVE)
 */
export async function enableWebhook(db: PrismaClient, actor: Actor, id: string): Promise<Webhook> {
  return db.$transaction(async (tx) => {
    const current = await lockWebhook(tx, actor, id);
    if (current.status !== "DISABLED") throw new IllegalTransitionError("Webhook", id, current.status, "enableWebhook", ["DISABLED"]);
    const webhook = await tx.webhook.update({ where: { id }, data: { status: "ACTIVE", disabledReason: null, disabledAt: null, consecutiveFailures: 0, failingSince: null } });
    await tx.webhookDelivery.updateMany({ where: { webhookId: id, status: "PENDING" }, data: { nextAttemptAt: new Date() } });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.enabled", entityId: id, payload: {} });
    return webhook;
  });
}

/**
 * Deletes an endpoint with its delivery log; an attempt in flight finishes unrecorded.
 * @throws NotFoundError
 */
export async function deleteWebhook(db: PrismaClient, actor: Actor, id: string): Promise<string> {
  return db.$transaction(async (tx) => {
    const current = await lockWebhook(tx, actor, id);
    await tx.webhook.delete({ where: { id } });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.deleted", entityId: id, payload: { url: current.url } });
    return id;
  });
}

/**
 * Sends a finished delivery's event again (a new delivery with the same `webhook-id`), after
 * what the endpoint has queued.
 * @throws NotFoundError, IllegalTransitionError (the delivery is still PENDING)
 */
export async function redeliver(db: PrismaClient, actor: Actor, deliveryId: string): Promise<WebhookDelivery> {
  return db.$transaction(async (tx) => {
    const original = await tx.webhookDelivery.findFirst({ where: { id: deliveryId, workspaceId: actor.workspaceId } });
    if (!original) throw new NotFoundError("WebhookDelivery", deliveryId);
    if (original.status === "PENDING") throw new IllegalTransitionError("WebhookDelivery", deliveryId, "PENDING", "redeliver", ["SUCCEEDED", "FAILED"]);
    await lockWebhook(tx, actor, original.webhookId);
    const delivery = await tx.webhookDelivery.create({
      data: { workspaceId: actor.workspaceId, webhookId: original.webhookId, eventId: original.eventId, eventType: original.eventType, origin: "REDELIVERY" },
    });
    await recordEvent(tx, actor, deliveryEvent("webhook.delivery_queued", delivery));
    return delivery;
  });
}

/**
 * Sends the endpoint's matching events after `after` again, in order, after what it has queued:
 * the cursor moves back to `after` (never forward). Events past retention are gone.
 * @throws NotFoundError, InvalidInputError (a cursor ahead of the log)
 */
export async function replayWebhook(db: PrismaClient, actor: Actor, id: string, after: bigint): Promise<Webhook> {
  const head = await currentHead(db);
  if (after > head) throw new InvalidInputError([{ path: "input.after", message: `is ahead of the event log (its newest event is ${head})` }]);
  return db.$transaction(async (tx) => {
    const current = await lockWebhook(tx, actor, id);
    const cursor = after < current.cursor ? after : current.cursor;
    const webhook = await tx.webhook.update({ where: { id }, data: { cursor } });
    await recordEvent(tx, actor, { topic: "webhook", type: "webhook.replayed", entityId: id, payload: { after: String(after) } });
    return webhook;
  });
}

/** The event a delivery's progress writes to the log (webhookDeliveryEvents streams them). */
function deliveryEvent(type: `webhook.delivery_${string}`, d: WebhookDelivery, retryDelayMs: number | null = null) {
  return {
    topic: "webhook" as const,
    type,
    entityId: d.webhookId,
    payload: {
      deliveryId: d.id,
      eventCursor: String(d.eventId),
      eventType: d.eventType,
      status: d.status,
      attempts: d.attempts,
      responseStatus: d.responseStatus,
      latencyMs: d.latencyMs,
      error: d.error,
      lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
      nextAttemptAt: d.status === "PENDING" ? d.nextAttemptAt.toISOString() : null,
      retryDelayMs,
    } satisfies Prisma.InputJsonObject,
  };
}

// ---- The delivery worker's side (src/modules/webhooks/delivery.ts drives these) ----

const SYSTEM = (workspaceId: string): Actor => ({ workspaceId, subject: "system" });

/**
 * Leases up to `limit` ACTIVE endpoints that have work (events after their cursor, or a next
 * delivery that is due) and whose lease is free or expired, for `leaseSeconds`. Concurrent callers never
 * get the same endpoint (SKIP LOCKED, and the lease condition re-checked on the locked row).
 */
export async function claimEndpoints(sql: Pick<SqlRunner, "query">, replicaId: string, leaseSeconds: number, limit: number): Promise<string[]> {
  // The raw connection: this runs on every poll and event, and stays out of Prisma's query log.
  const rows = await sql.query<{ id: string }>(
    `UPDATE "Webhook" w SET "leasedBy" = $1, "leaseExpiresAt" = now() + make_interval(secs => $2::int)
     WHERE w.id IN (
       SELECT x.id FROM "Webhook" x
       WHERE x.status = 'ACTIVE' AND (x."leaseExpiresAt" IS NULL OR x."leaseExpiresAt" < now())
         AND (x.cursor < (SELECT position FROM "EventLogHead" WHERE id = 1)
              OR (SELECT d."nextAttemptAt" FROM "WebhookDelivery" d WHERE d."webhookId" = x.id AND d.status = 'PENDING' ORDER BY d.seq LIMIT 1) <= now())
       ORDER BY x."leaseExpiresAt" NULLS FIRST
       LIMIT $3
       FOR UPDATE SKIP LOCKED)
     AND w.status = 'ACTIVE' AND (w."leaseExpiresAt" IS NULL OR w."leaseExpiresAt" < now())
     RETURNING w.id`,
    [replicaId, leaseSeconds, limit],
  );
  return rows.map((r) => r.id);
}

/** Whether any endpoint of any workspace is ACTIVE (the worker skips its claims while none is). */
export async function hasActiveEndpoints(sql: Pick<SqlRunner, "query">): Promise<boolean> {
  const [row] = await sql.query<{ active: boolean }>(`SELECT EXISTS (SELECT 1 FROM "Webhook" WHERE status = 'ACTIVE') AS active`);
  return row?.active === true;
}

/** Gives the lease back (only if still held by this replica). */
export async function releaseEndpoint(db: PrismaClient, id: string, replicaId: string): Promise<void> {
  await db.$executeRaw`UPDATE "Webhook" SET "leasedBy" = NULL, "leaseExpiresAt" = NULL WHERE id = ${id} AND "leasedBy" = ${replicaId}`;
}

/** Gives back every lease this replica holds (graceful stop). */
export async function releaseAllEndpoints(sql: Pick<SqlRunner, "query">, replicaId: string): Promise<void> {
  await sql.query(`UPDATE "Webhook" SET "leasedBy" = NULL, "leaseExpiresAt" = NULL WHERE "leasedBy" = $1`, [replicaId]);
}

/** Locks the endpoint if this replica holds its live lease; null otherwise. */
async function lockLeased(tx: Db, id: string, replicaId: string): Promise<Webhook | null> {
  const [row] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Webhook" WHERE id = ${id} AND "leasedBy" = ${replicaId} AND "leaseExpiresAt" > now() AND status = 'ACTIVE' FOR UPDATE`;
  return row ? tx.webhook.findUnique({ where: { id } }) : null;
}

/**
 * Queues the endpoint's matching events after its cursor (up to one batch) and moves the cursor
 * past them. Returns false when this replica no longer holds the lease.
 */
export async function queueNewEvents(db: PrismaClient, id: string, replicaId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const webhook = await lockLeased(tx, id, replicaId);
    if (!webhook) return false;
    // Positions are dense and final once visible (src/events/sequencer.ts): reading the head
    // first, every event up to it is visible to the next statement.
    const [head] = await tx.$queryRaw<{ position: bigint }[]>`SELECT position FROM "EventLogHead" WHERE id = 1`;
    const upto = head?.position ?? 0n;
    if (upto <= webhook.cursor) return true;
    const events = await tx.$queryRaw<{ id: bigint; type: string }[]>`
      SELECT id, type FROM "Event" WHERE ${matching(webhook)} AND id > ${webhook.cursor} AND id <= ${upto} ORDER BY id LIMIT ${SCAN_BATCH}`;
    if (events.length > 0) {
      await tx.webhookDelivery.createMany({ data: events.map((e) => ({ workspaceId: webhook.workspaceId, webhookId: id, eventId: e.id, eventType: e.type })) });
    }
    const cursor = events.length === SCAN_BATCH ? events.at(-1)!.id : upto;
    await tx.webhook.update({ where: { id }, data: { cursor } });
    return true;
  });
}

/**
 * An endpoint is its creator's eyes: naming a topic whose events the caller may not read (its
 * domain's read scope, as for the audit trail) is refused, naming the filter.
 */
function refuseUnreadableTopics(eventTypes: readonly string[] | null | undefined, readable: readonly string[]): void {
  const issues = (eventTypes ?? []).flatMap((filter, i) => {
    const topic = filter.split(".")[0]!;
    if (readable.includes(topic)) return [];
    const scope = DOMAIN_READ_SCOPE[topic as keyof typeof DOMAIN_READ_SCOPE];
    return [{ path: `input.eventTypes.${i}`, message: `following ${topic} events needs the scope ${scope}, which this token does not grant` }];
  });
  if (issues.length > 0) throw new InvalidInputError(issues);
}

/** The events an endpoint receives: its workspace's, of topics its creator may read, matching its filters, delivery events never. */
function matching(webhook: Pick<Webhook, "workspaceId" | "eventTypes" | "entityIds" | "readableTopics">): Prisma.Sql {
  return Prisma.sql`"workspaceId" = ${webhook.workspaceId}
    AND type NOT LIKE ${DELIVERY_EVENT_PREFIX + "%"}
    AND topic = ANY(${webhook.readableTopics}::text[])
    AND (cardinality(${webhook.eventTypes}::text[]) = 0 OR type = ANY(${webhook.eventTypes}::text[]) OR topic || '.*' = ANY(${webhook.eventTypes}::text[]))
    AND (cardinality(${webhook.entityIds}::text[]) = 0 OR "entityId" = ANY(${webhook.entityIds}::text[]))`;
}

/** The endpoint's next delivery in queue order (its oldest PENDING one), or null. */
export async function nextDelivery(db: PrismaClient, webhookId: string): Promise<WebhookDelivery | null> {
  return db.webhookDelivery.findFirst({ where: { webhookId, status: "PENDING" }, orderBy: { seq: "asc" } });
}

/** What one attempt needs: where, how to sign, what to send. */
export interface Attempt {
  webhook: Webhook;
  delivery: WebhookDelivery;
  /** The secrets to sign with (current first, then the previous one during its grace period). */
  secrets: string[];
  /** The event, or null when retention deleted it. */
  event: { id: bigint; workspaceId: string; topic: string; type: string; entityId: string; payload: unknown; actor: string | null; createdAt: Date } | null;
}

/**
 * Renews the lease and counts the attempt before it is sent, so a crash mid-request leaves a
 * trace and the delivery PENDING. Null when the lease was lost or the delivery is no longer
 * PENDING.
 */
export async function beginAttempt(db: PrismaClient, webhookId: string, deliveryId: string, replicaId: string, leaseSeconds: number): Promise<Attempt | null> {
  return db.$transaction(async (tx) => {
    const locked = await lockLeased(tx, webhookId, replicaId);
    if (!locked) return null;
    const [lease] = await tx.$queryRaw<{ now: Date }[]>`
      UPDATE "Webhook" SET "leaseExpiresAt" = now() + make_interval(secs => ${leaseSeconds}::int) WHERE id = ${webhookId} RETURNING now() AS now`;
    const updated = await tx.webhookDelivery.updateManyAndReturn({
      where: { id: deliveryId, webhookId, status: "PENDING" },
      data: { attempts: { increment: 1 }, lastAttemptAt: lease!.now },
    });
    const delivery = updated[0];
    if (!delivery) return null;
    const event = await tx.event.findUnique({ where: { id: delivery.eventId } });
    const secrets = [locked.secret];
    if (locked.previousSecret && locked.previousSecretExpiresAt && locked.previousSecretExpiresAt > lease!.now) secrets.push(locked.previousSecret);
    return { webhook: locked, delivery, secrets, event: event as Attempt["event"] };
  });
}

/** How one attempt ended, as the sender saw it. */
export interface AttemptResult {
  /** HTTP status; null when no response arrived (network error, timeout, refused target). */
  responseStatus: number | null;
  responseBody: string | null;
  latencyMs: number;
  error: string | null;
  /** Whether trying again may help (network errors, timeouts, 408, 429, 5xx). */
  retryable: boolean;
  /** The receiver's Retry-After, in ms. */
  retryAfterMs: number | null;
}

/** The delay before attempt `attempt + 1`: exponential from the base, with jitter (half to all of it), capped. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | null, random = Math.random): number {
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, 0), policy.retryMaxMs);
  const full = Math.min(policy.retryBaseMs * 2 ** Math.min(attempt - 1, 30), policy.retryMaxMs);
  return Math.round(full / 2 + (random() * full) / 2);
}

/**
 * Records an attempt's outcome: SUCCEEDED on 2xx; otherwise PENDING with the next attempt time
 * while retrying may help and attempts remain, else FAILED. Failures count towards disabling
 * the endpoint (WEBHOOK_DISABLE_AFTER_FAILURES within WEBHOOK_FAILURE_WINDOW_SECONDS); a success
 * resets the count. Returns the delivery and whether the endpoint is still ACTIVE; null when the
 * endpoint or delivery was deleted meanwhile.
 */
export async function recordAttempt(db: PrismaClient, attempt: Attempt, result: AttemptResult, policy: RetryPolicy): Promise<{ delivery: WebhookDelivery; active: boolean } | null> {
  const { webhook, delivery } = attempt;
  const succeeded = result.responseStatus !== null && result.responseStatus >= 200 && result.responseStatus < 300;
  return db.$transaction(async (tx) => {
    const [row] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Webhook" WHERE id = ${webhook.id} FOR UPDATE`;
    if (!row) return null;
    const current = (await tx.webhook.findUnique({ where: { id: webhook.id } }))!;
    const [{ now }] = (await tx.$queryRaw<{ now: Date }[]>`SELECT now() AS now`) as [{ now: Date }];
    const retry = !succeeded && result.retryable && delivery.attempts < policy.maxAttempts;
    const status = succeeded ? "SUCCEEDED" : retry ? "PENDING" : "FAILED";
    const delay = retry ? retryDelayMs(policy, delivery.attempts, result.retryAfterMs) : null;
    const updated = await tx.webhookDelivery.updateManyAndReturn({
      where: { id: delivery.id, status: "PENDING" },
      data: {
        status,
        responseStatus: result.responseStatus,
        responseBody: result.responseBody,
        latencyMs: result.latencyMs,
        error: result.error,
        nextAttemptAt: delay !== null ? new Date(now.getTime() + delay) : undefined,
        completedAt: status === "PENDING" ? null : now,
      },
    });
    const saved = updated[0];
    if (!saved) return null;
    const actor = SYSTEM(webhook.workspaceId);
    let active = current.status === "ACTIVE";
    if (succeeded) {
      await tx.webhook.update({ where: { id: webhook.id }, data: { deliveredCount: { increment: 1 }, consecutiveFailures: 0, failingSince: null, lastSuccessAt: now } });
    } else {
      const windowStart = now.getTime() - policy.failureWindowSeconds * 1000;
      const continues = current.failingSince !== null && current.failingSince.getTime() >= windowStart;
      const failures = continues ? current.consecutiveFailures + 1 : 1;
      await tx.webhook.update({
        where: { id: webhook.id },
        data: { consecutiveFailures: failures, failingSince: continues ? current.failingSince : now, lastFailureAt: now, failedCount: status === "FAILED" ? { increment: 1 } : undefined },
      });
      await recordEvent(tx, actor, deliveryEvent(retry ? "webhook.delivery_retrying" : "webhook.delivery_failed", saved, delay));
      if (active && failures >= policy.disableAfterFailures) {
        const reason = `${failures} consecutive failed delivery attempts since ${(continues ? current.failingSince! : now).toISOString()}; last: ${result.error ?? `HTTP ${result.responseStatus}`}`;
        await markDisabled(tx, actor, webhook.id, reason, true);
        active = false;
      }
      return { delivery: saved, active };
    }
    await recordEvent(tx, actor, deliveryEvent("webhook.delivery_succeeded", saved));
    return { delivery: saved, active };
  });
}

/**
 * Events the endpoint has still to finish (its lag): PENDING deliveries plus matching events in the
 * log after its cursor that are not queued yet.
 */
export async function endpointLag(db: Db, webhook: Pick<Webhook, "id" | "workspaceId" | "eventTypes" | "entityIds" | "readableTopics" | "cursor">): Promise<number> {
  const [row] = await db.$queryRaw<{ pending: bigint; unqueued: bigint }[]>`
    SELECT (SELECT count(*) FROM "WebhookDelivery" WHERE "webhookId" = ${webhook.id} AND status = 'PENDING') AS pending,
           (SELECT count(*) FROM "Event" WHERE ${matching(webhook)} AND id > ${webhook.cursor}) AS unqueued`;
  return Number(row!.pending) + Number(row!.unqueued);
}
