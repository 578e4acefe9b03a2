/**
 * The webhook delivery worker, one per server process. It wakes on every new event (the tailer's
 * bus), on its poll timer (due retries, leases other replicas let go) and after each attempt;
 * leases endpoints that have work (src/modules/webhooks/service.ts explains the guarantees), and
 * for each one sends its queue in order until the queue is empty, the next attempt is not due
 * yet, or the endpoint was disabled. Several replicas share the endpoints through the leases.
 */
import http from "node:http";
import https from "node:https";
import type { Config } from "../../config.ts";
import type { PrismaClient } from "../../db/client.ts";
import type { SqlRunner } from "../../db/sql.ts";
import type { EventBus } from "../../events/bus.ts";
import type { Logger } from "../../logger.ts";
import {
  type Attempt,
  type AttemptResult,
  beginAttempt,
  claimEndpoints,
  DELIVERY_EVENT_PREFIX,
  hasActiveEndpoints,
  nextDelivery,
  queueNewEvents,
  recordAttempt,
  releaseAllEndpoints,
  releaseEndpoint,
  RESPONSE_BODY_BYTES,
  type RetryPolicy,
} from "./service.ts";
import { messageId, signatureHeaders } from "./signature.ts";
import { guardedLookup, ipLiteral, isPrivateAddress } from "./targets.ts";

/** Endpoints one replica delivers to at the same time. */
const CONCURRENT_ENDPOINTS = 8;

export interface WebhookWorkerOptions {
  db: PrismaClient;
  /** The raw connection, for the claim that runs on every poll (kept out of Prisma's query log). */
  sql: SqlRunner;
  bus: EventBus;
  config: Config;
  log: Logger;
  /** This process's replica id (the lease holder name). */
  replicaId: string;
  /** Wakes the event tailers after the worker committed events (delivery progress). */
  notify(): void;
}

export interface WebhookWorker {
  start(): void;
  /** Looks for work now (coalesced with a pass in progress). */
  wake(): void;
  /** Stops taking work, waits for attempts in flight, and gives the leases back. */
  stop(): Promise<void>;
}

export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { db, config, log, replicaId } = options;
  const policy: RetryPolicy = {
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    retryMaxMs: config.webhookRetryMaxMs,
    disableAfterFailures: config.webhookDisableAfterFailures,
    failureWindowSeconds: config.webhookFailureWindowSeconds,
  };
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let poll: NodeJS.Timeout | undefined;
  const retryTimers = new Set<NodeJS.Timeout>();
  let unlisten: (() => void) | undefined;

  /** One endpoint: queue new events, then send the queue in order while attempts are due. */
  async function serve(webhookId: string): Promise<void> {
    try {
      while (!stopped) {
        if (!(await queueNewEvents(db, webhookId, replicaId))) return;
        const delivery = await nextDelivery(db, webhookId);
        if (!delivery) return;
        const wait = delivery.nextAttemptAt.getTime() - Date.now();
        if (wait > 0) {
          wakeAt(wait);
          return;
        }
        const attempt = await beginAttempt(db, webhookId, delivery.id, replicaId, config.webhookLeaseSeconds);
        if (!attempt) return;
        const result = await send(attempt, config);
        const recorded = await recordAttempt(db, attempt, result, policy);
        options.notify();
        if (!recorded?.active) return;
      }
    } finally {
      await releaseEndpoint(db, webhookId, replicaId).catch((error: unknown) => log.warn({ err: error, webhookId }, "could not release a webhook lease (it expires by itself)"));
    }
  }

  // Most deployments have no endpoint, and every event wakes the worker: a claim per event was a
  // third of the statements the agent hot path caused. So the worker remembers whether any
  // endpoint is ACTIVE (checked again on each poll and after each webhook event, which is how
  // an endpoint created or enabled on any replica becomes known) and ignores other events while
  // there is none. `checked` tells a pass whether a webhook event arrived during its check.
  let anyActive: boolean | undefined;
  let checked = 0;

  /** Endpoints this replica is serving now. */
  const serving = new Set<Promise<void>>();
  let saturated = false;

  /** Leases endpoints with work, up to the free slots, and serves each without waiting for the others. */
  async function pass(): Promise<void> {
    const free = CONCURRENT_ENDPOINTS - serving.size;
    if (free <= 0) return;
    if (anyActive !== true) {
      const version = checked;
      const active = await hasActiveEndpoints(options.sql);
      if (version === checked) anyActive = active;
      if (!active) return;
    }
    const claimed = await claimEndpoints(options.sql, replicaId, config.webhookLeaseSeconds, free);
    saturated = claimed.length === free;
    for (const id of claimed) {
      const done: Promise<void> = serve(id)
        .catch((error: unknown) => log.error({ err: error, webhookId: id }, "webhook delivery failed"))
        .finally(() => {
          serving.delete(done);
          // Endpoints may have been left waiting for a slot.
          if (saturated) worker.wake();
        });
      serving.add(done);
    }
  }

  async function run(): Promise<void> {
    do {
      again = false;
      try {
        await pass();
      } catch (error) {
        if (!stopped) log.error({ err: error }, "webhook delivery pass failed");
      }
    } while (again && !stopped);
  }

  function wakeAt(ms: number) {
    const timer = setTimeout(() => {
      retryTimers.delete(timer);
      worker.wake();
    }, Math.min(ms, 2 ** 31 - 1));
    timer.unref();
    retryTimers.add(timer);
  }

  const worker: WebhookWorker = {
    start() {
      if (config.webhookPollIntervalMs === 0) return;
      // Delivery progress events are the worker's own doing: they never make new work.
      unlisten = options.bus.listenAll((event) => {
        if (event.type.startsWith(DELIVERY_EVENT_PREFIX)) return;
        if (event.topic === "webhook") {
          anyActive = undefined;
          checked++;
        } else if (anyActive === false) return;
        worker.wake();
      });
      const tick = () => {
        if (stopped) return;
        anyActive = undefined;
        checked++;
        worker.wake();
        poll = setTimeout(tick, config.webhookPollIntervalMs);
        poll.unref();
      };
      tick();
    },
    wake() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = run().finally(() => (running = undefined));
    },
    async stop() {
      stopped = true;
      unlisten?.();
      clearTimeout(poll);
      for (const timer of retryTimers) clearTimeout(timer);
      await running;
      await Promise.all(serving);
      await releaseAllEndpoints(options.sql, replicaId).catch(() => undefined);
    },
  };
  return worker;
}

/** The JSON body of a delivery, in the Standard Webhooks shape: type, timestamp, data. */
export function deliveryBody(event: NonNullable<Attempt["event"]>): string {
  return JSON.stringify({
    type: event.type,
    timestamp: event.createdAt.toISOString(),
    data: {
      cursor: String(event.id),
      workspaceId: event.workspaceId,
      topic: event.topic,
      entityId: event.entityId,
      actor: event.actor,
      payload: event.payload,
    },
  });
}

/** Sends one attempt and reports how it went; never throws. */
export async function send(attempt: Attempt, config: Config): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failure = (error: string, retryable: boolean): AttemptResult => ({ responseStatus: null, responseBody: null, latencyMs: elapsed(), error, retryable, retryAfterMs: null });
  if (!attempt.event) return failure("the event is no longer in the log (EVENT_RETENTION_HOURS)", false);
  const url = new URL(attempt.webhook.url);
  const literal = ipLiteral(url);
  if (!config.webhookAllowPrivateTargets && literal && isPrivateAddress(literal)) {
    return failure(`refused: ${literal} is a private or loopback address (WEBHOOK_ALLOW_PRIVATE_TARGETS is off)`, false);
  }
  const body = deliveryBody(attempt.event);
  const headers = {
    "content-type": "application/json",
    "user-agent": "swarmgraph-webhooks",
    ...signatureHeaders(attempt.secrets, messageId(attempt.webhook.id, attempt.event.id), Math.floor(Date.now() / 1000), body),
  };
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const client = url.protocol === "https:" ? https : http;
    const request = client.request(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": Buffer.byteLength(body) },
        agent: false,
        ...(config.webhookAllowPrivateTargets ? {} : { lookup: guardedLookup as never }),
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < RESPONSE_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on("end", () => {
          const status = response.statusCode ?? 0;
          finish({
            responseStatus: status,
            responseBody: Buffer.concat(chunks).subarray(0, RESPONSE_BODY_BYTES).toString("utf8").replace(/\uFFFD+$/, ""),
            latencyMs: elapsed(),
            error: status >= 200 && status < 300 ? null : `HTTP ${status}`,
            retryable: status === 408 || status === 429 || status >= 500,
            retryAfterMs: parseRetryAfter(response.headers["retry-after"]),
          });
        });
        response.on("error", (error) => finish(failure(`response failed: ${error.message}`, true)));
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      finish(failure(`no complete response within ${config.webhookTimeoutMs} ms (WEBHOOK_TIMEOUT_MS)`, true));
    }, config.webhookTimeoutMs);
    request.on("error", (error: NodeJS.ErrnoException) => {
      const refused = error.code === "EPRIVATETARGET";
      finish(failure(refused ? error.message : `request failed: ${error.code ?? error.message}`, !refused));
    });
    request.end(body);
  });
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(at - now, 0);
}
