/**
 * Webhooks: signed deliveries in log order, once per event id even through failures and
 * retries, a backlog after an outage, secret rotation with a grace period, redelivery and
 * replay, auto-disable, the SSRF guard, workspace isolation and typed errors. A real receiver
 * (test/support/webhookReceiver.ts) verifies every signature as the README tells receivers to.
 */
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppendMessagesDocument,
  CreateSessionDocument,
  CreateWebhookDocument,
  type CreateWebhookInput,
  DeleteWebhookDocument,
  DisableWebhookDocument,
  EnableWebhookDocument,
  RegisterAgentDocument,
  RedeliverWebhookDeliveryDocument,
  ReplayWebhookDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookDocument,
  WebhookDeliveryEventsDocument,
  WebhookDocument,
  WebhooksDocument,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { type Received, type Receiver, startReceiver, verifySignature } from "./support/webhookReceiver.ts";

let server: TestServer;
let api: GraphQLClient;
const receivers: Receiver[] = [];

beforeAll(async () => {
  server = await startTestServer({
    // WEBHOOK_MAX_ATTEMPTS at its maximum: a receiver kept down by a test (on a loaded machine, for
    // longer than 10 short retries) must not see its first delivery given up.
    config: { webhookAllowPrivateTargets: true, webhookRetryBaseMs: 40, webhookRetryMaxMs: 200, webhookMaxAttempts: 100, webhookPollIntervalMs: 50, webhookTimeoutMs: 2_000, leaseSweepIntervalMs: 0 },
  });
  api = server.client({ workspace: "hooks", subject: "ops" });
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close().catch(() => undefined);
  await server?.stop();
});

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

/** A session to write events into: each appended message is one session.message event. */
async function session(client = api): Promise<string> {
  return expectType((await client.request(CreateSessionDocument, { input: { label: "hooked" } })).createSession, "CreateSessionPayload").session.id;
}
async function append(sessionId: string, count: number, client = api): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({ role: "USER" as const, content: `m${i}` }));
  expectType((await client.request(AppendMessagesDocument, { input: { sessionId, messages } })).appendMessages, "AppendMessagesPayload");
}
async function createWebhook(input: CreateWebhookInput, client = api) {
  return expectType((await client.request(CreateWebhookDocument, { input })).createWebhook, "CreateWebhookPayload");
}
async function webhook(id: string, client = api) {
  return (await client.request(WebhookDocument, { id, first: 50 })).webhook!;
}
/** Reads until `ok` holds (the worker records an attempt just after the receiver answered it); bounded. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 400 && !ok(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}
/** Message seqs of the requests, in arrival order. */
const seqs = (requests: readonly Received[]) => requests.map((r) => r.body.data.payload.seq);

describe("delivery", () => {
  it("fails 3 times then succeeds: every event arrives once by id, in order, signed, and the log shows the attempts", async () => {
    const target = await receiver();
    target.answer = (_r, index) => (index === 0 ? 500 : index === 1 ? "drop" : index === 2 ? { status: 429, headers: { "retry-after": "0" } } : 200);
    const sessionId = await session();
    const { webhook: hook, secret } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId], description: "orders" });
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(hook).toMatchObject({ status: "ACTIVE", eventTypes: ["session.message"], createdBy: "ops" });
    await append(sessionId, 3);
    await append(sessionId, 2);

    await target.until(() => target.accepted.length === 5);
    expect(seqs(target.accepted)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(target.accepted.map((r) => r.id)).size).toBe(5);
    // The three failures were all the first event: nothing later went out before it succeeded.
    expect(target.requests.slice(0, 4).map((r) => r.id)).toEqual(Array(4).fill(target.accepted[0]!.id));
    for (const r of target.requests) {
      expect(verifySignature(secret, r.id, String(r.timestamp), r.rawBody, r.signatures.join(" "))).toBe(true);
      expect(r.body).toMatchObject({ type: "session.message", data: { topic: "session", workspaceId: "hooks", actor: "ops" } });
      expect(Math.abs(r.timestamp - Date.now() / 1000)).toBeLessThan(300);
    }
    // The reference Standard Webhooks library accepts them as they are.
    const last = target.accepted.at(-1)!;
    expect(new StandardWebhook(secret).verify(last.rawBody, { "webhook-id": last.id, "webhook-timestamp": String(last.timestamp), "webhook-signature": last.signatures.join(" ") })).toEqual(last.body);
    expect(verifySignature("whsec_" + Buffer.alloc(32, 1).toString("base64"), target.requests[0]!.id, String(target.requests[0]!.timestamp), target.requests[0]!.rawBody, target.requests[0]!.signatures.join(" "))).toBe(false);

    const logged = await eventually(() => webhook(hook.id), (w) => w.deliveredCount === 5);
    expect(logged).toMatchObject({ deliveredCount: 5, failedCount: 0, consecutiveFailures: 0, lag: 0 });
    const log = logged.deliveries.edges.map((e) => e.node).reverse();
    expect(log.map((d) => [d.status, d.attempts])).toEqual([["SUCCEEDED", 4], ["SUCCEEDED", 1], ["SUCCEEDED", 1], ["SUCCEEDED", 1], ["SUCCEEDED", 1]]);
    expect(log.map((d) => d.messageId)).toEqual(target.accepted.map((r) => r.id));
    expect(log[0]).toMatchObject({ responseStatus: 200, error: null, nextAttemptAt: null });
    expect(log[0]!.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("a receiver that is down gets the backlog in order once it is back, and the log shows the failed attempts", async () => {
    const target = await receiver();
    await target.close();
    const sessionId = await session();
    const { webhook: hook } = await createWebhook({ url: target.url, eventTypes: ["session.*"], entityIds: [sessionId] });
    await append(sessionId, 4);
    // Wait until the first delivery has failed at least twice against the closed port.
    for (let i = 0; i < 200; i++) {
      const first = (await webhook(hook.id)).deliveries.edges.map((e) => e.node).at(-1);
      if (first && first.attempts >= 2) {
        expect(first.status).toBe("PENDING");
        const pending = (await api.request(RedeliverWebhookDeliveryDocument, { deliveryId: first.id })).redeliverWebhookDelivery;
        expect(expectType(pending, "IllegalTransitionError")).toMatchObject({ fromStatus: "PENDING", action: "redeliver" });
        expect(first.error).toMatch(/request failed: ECONNREFUSED/);
        expect(first.nextAttemptAt).not.toBeNull();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await append(sessionId, 2);
    await target.reopen();
    await target.until(() => target.accepted.length === 6);
    expect(seqs(target.accepted)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(target.requests).toHaveLength(6);
  });

  it("redelivers a finished delivery and replays after a cursor with the same webhook-id, after what is queued", async () => {
    const target = await receiver();
    const sessionId = await session();
    const { webhook: hook } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId] });
    await append(sessionId, 3);
    await target.until(() => target.accepted.length === 3);
    const log = (await eventually(() => webhook(hook.id), (w) => w.deliveredCount === 3)).deliveries.edges.map((e) => e.node).reverse();

    const again = expectType((await api.request(RedeliverWebhookDeliveryDocument, { deliveryId: log[1]!.id })).redeliverWebhookDelivery, "RedeliverWebhookDeliveryPayload").delivery;
    expect(again).toMatchObject({ origin: "REDELIVERY", eventCursor: log[1]!.eventCursor, messageId: log[1]!.messageId });
    await target.until(() => target.accepted.length === 4);
    expect(target.accepted[3]!.id).toBe(target.accepted[1]!.id);

    const replayed = expectType((await api.request(ReplayWebhookDocument, { input: { webhookId: hook.id, after: log[0]!.eventCursor } })).replayWebhook, "ReplayWebhookPayload");
    expect(replayed.webhook.cursor).toBe(log[0]!.eventCursor);
    await target.until(() => target.accepted.length === 6);
    expect(seqs(target.accepted)).toEqual([1, 2, 3, 2, 2, 3]);

    const ahead = (await api.request(ReplayWebhookDocument, { input: { webhookId: hook.id, after: "999999999" } })).replayWebhook;
    expect(expectType(ahead, "InvalidInputError").issues[0]!.path).toBe("input.after");
    const malformed = (await api.request(ReplayWebhookDocument, { input: { webhookId: hook.id, after: "x" } })).replayWebhook;
    expect(expectType(malformed, "InvalidInputError").issues[0]!.path).toBe("input.after");
  });

  it("a 4xx other than 408/429 fails the delivery at once and the endpoint moves on", async () => {
    const target = await receiver();
    target.answer = (_r, index) => (index === 0 ? { status: 400, body: "x".repeat(5000) } : 200);
    const sessionId = await session();
    const { webhook: hook } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId] });
    await append(sessionId, 2);
    await target.until(() => target.accepted.length === 1);
    expect(seqs(target.requests)).toEqual([1, 2]);
    const logged = await eventually(() => webhook(hook.id), (w) => w.deliveredCount === 1);
    const first = logged.deliveries.edges.at(-1)!.node;
    expect(first).toMatchObject({ status: "FAILED", attempts: 1, responseStatus: 400, error: "HTTP 400" });
    expect(first.responseBody).toHaveLength(2048);
    expect(logged).toMatchObject({ deliveredCount: 1, failedCount: 1 });
    const failed = (await api.request(WebhookDocument, { id: hook.id, status: ["FAILED"] })).webhook!;
    expect(failed.deliveries.totalCount).toBe(1);
  });

  it("retries after backoff with jitter, and after the receiver's Retry-After (capped at WEBHOOK_RETRY_MAX_MS)", async () => {
    const ws = wsClient(server.wsUrl, server.token({ workspace: "hooks", scopes: ["webhooks:read"] }));
    try {
      const target = await receiver();
      target.answer = (_r, index) => (index === 0 ? 500 : index === 1 ? { status: 429, headers: { "retry-after": "3600" } } : index === 2 ? { status: 503, headers: { "retry-after": "Wed, 21 Oct 2015 07:28:00 GMT" } } : 200);
      const sessionId = await session();
      const { webhook: hook } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId] });
      const progress = collect(ws, WebhookDeliveryEventsDocument, { webhookId: hook.id, after: hook.cursor });
      await append(sessionId, 1);
      const events = (await progress.waitFor(4)).map((e) => e.webhookDeliveryEvents);
      progress.stop();
      expect(events.map((e) => [e.type, e.attempts, e.responseStatus])).toEqual([
        ["webhook.delivery_retrying", 1, 500],
        ["webhook.delivery_retrying", 2, 429],
        ["webhook.delivery_retrying", 3, 503],
        ["webhook.delivery_succeeded", 4, 200],
      ]);
      const delay = (e: (typeof events)[number]) => e.retryDelayMs!;
      expect(Date.parse(events[0]!.nextAttemptAt!)).toBeGreaterThan(Date.parse(events[0]!.lastAttemptAt!));
      // Backoff: WEBHOOK_RETRY_BASE_MS (40) with jitter, half to all of it.
      expect(delay(events[0]!)).toBeGreaterThanOrEqual(20);
      expect(delay(events[0]!)).toBeLessThanOrEqual(40);
      // Retry-After wins over the backoff, capped at WEBHOOK_RETRY_MAX_MS (200); a date in the past means now.
      expect(delay(events[1]!)).toBe(200);
      expect(delay(events[2]!)).toBe(0);
      expect(events[3]).toMatchObject({ nextAttemptAt: null, retryDelayMs: null });
      expect(events[0]!.error).toBe("HTTP 500");
    } finally {
      await ws.dispose();
    }
  });
});

describe("scopes", () => {
  it("an endpoint receives only the topics its creator may read, even without filters", async () => {
    const target = await receiver();
    const creator = server.client({ workspace: "hooks", subject: "session-watcher", scopes: ["webhooks:write", "sessions:read"] });
    await createWebhook({ url: target.url }, creator);
    const sessionId = await session();
    // Events of topics the creator may not read (agents:read, admin), around the session's.
    expectType((await api.request(RegisterAgentDocument, { input: { name: "unseen", type: "w" } })).registerAgent, "RegisterAgentPayload");
    await append(sessionId, 2);
    await target.until(() => target.accepted.filter((r) => r.body.data.topic === "session").length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(target.accepted.filter((r) => r.body.data.topic === "session").map((r) => r.body.type)).toEqual(["session.created", "session.message", "session.message"]);
    // webhooks:write grants webhooks:read, so its own webhook.* events come too; nothing else does.
    expect(new Set(target.accepted.map((r) => r.body.data.topic))).toEqual(new Set(["session", "webhook"]));
  });
});

describe("secret rotation", () => {
  it("signs with the old and the new secret during the grace period, and with the new one only after", async () => {
    const target = await receiver();
    const sessionId = await session();
    const original = "whsec_" + Buffer.alloc(32, 7).toString("base64");
    const { webhook: hook, secret } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId], secret: original });
    expect(secret).toBe(original);
    const rotated = expectType((await api.request(RotateWebhookSecretDocument, { input: { webhookId: hook.id, graceSeconds: 3600 } })).rotateWebhookSecret, "RotateWebhookSecretPayload");
    expect(rotated.secret).not.toBe(original);
    expect(rotated.webhook.previousSecretExpiresAt).not.toBeNull();
    await append(sessionId, 1);
    await target.until(() => target.accepted.length === 1);
    const during = target.accepted[0]!;
    expect(during.signatures).toHaveLength(2);
    for (const s of [original, rotated.secret]) expect(verifySignature(s, during.id, String(during.timestamp), during.rawBody, during.signatures.join(" "))).toBe(true);

    const final = expectType((await api.request(RotateWebhookSecretDocument, { input: { webhookId: hook.id, graceSeconds: 0 } })).rotateWebhookSecret, "RotateWebhookSecretPayload");
    expect(final.webhook.previousSecretExpiresAt).toBeNull();
    await append(sessionId, 1);
    await target.until(() => target.accepted.length === 2);
    const after = target.accepted[1]!;
    expect(after.signatures).toHaveLength(1);
    expect(verifySignature(final.secret, after.id, String(after.timestamp), after.rawBody, after.signatures.join(" "))).toBe(true);
    expect(verifySignature(rotated.secret, after.id, String(after.timestamp), after.rawBody, after.signatures.join(" "))).toBe(false);

    const same = (await api.request(RotateWebhookSecretDocument, { input: { webhookId: hook.id, secret: final.secret } })).rotateWebhookSecret;
    expect(expectType(same, "InvalidInputError").issues).toEqual([{ path: "input.secret", message: expect.stringMatching(/current secret/) }]);
  });
});

describe("auto-disable", () => {
  it("disables an endpoint after repeated failures with a webhook.disabled event; enabling resumes in order", async () => {
    const failing = await startTestServer({
      config: { webhookAllowPrivateTargets: true, webhookRetryBaseMs: 20, webhookRetryMaxMs: 50, webhookPollIntervalMs: 50, webhookDisableAfterFailures: 3, leaseSweepIntervalMs: 0 },
    });
    const ws = wsClient(failing.wsUrl, failing.token({ workspace: "hooks", scopes: ["webhooks:read"] }));
    try {
      const client = failing.client({ workspace: "hooks" });
      const target = await receiver();
      let healthy = false;
      target.answer = () => (healthy ? 200 : 503);
      const sessionId = await session(client);
      const { webhook: hook } = await createWebhook({ url: target.url, eventTypes: ["session.message"], entityIds: [sessionId] }, client);
      const progress = collect(ws, WebhookDeliveryEventsDocument, { webhookId: hook.id, after: hook.cursor });
      await append(sessionId, 2, client);
      const events = await progress.waitFor(4);
      expect(events.map((e) => e.webhookDeliveryEvents.type)).toEqual(["webhook.delivery_retrying", "webhook.delivery_retrying", "webhook.delivery_retrying", "webhook.disabled"]);
      expect(events[0]!.webhookDeliveryEvents).toMatchObject({ webhookId: hook.id, status: "PENDING", attempts: 1, responseStatus: 503 });
      progress.stop();
      const disabled = await eventually(() => webhook(hook.id, client), (w) => w.status === "DISABLED");
      expect(disabled).toMatchObject({ status: "DISABLED", consecutiveFailures: 3 });
      expect(disabled.disabledReason).toMatch(/3 consecutive failed delivery attempts.*HTTP 503/);
      expect(disabled.deliveries.edges.every((e) => e.node.status === "PENDING")).toBe(true);
      expect(target.requests.every((r) => r.body.data.payload.seq === 1)).toBe(true);

      healthy = true;
      const enabled = expectType((await client.request(EnableWebhookDocument, { webhookId: hook.id })).enableWebhook, "EnableWebhookPayload");
      expect(enabled.webhook).toMatchObject({ status: "ACTIVE", disabledReason: null, consecutiveFailures: 0 });
      await target.until(() => target.accepted.length === 2);
      expect(seqs(target.accepted)).toEqual([1, 2]);
      const twice = (await client.request(EnableWebhookDocument, { webhookId: hook.id })).enableWebhook;
      expect(expectType(twice, "IllegalTransitionError")).toMatchObject({ fromStatus: "ACTIVE", action: "enableWebhook" });
    } finally {
      await ws.dispose();
      await failing.stop();
    }
  });
});

describe("SSRF guard", () => {
  it("refuses private and loopback targets unless allowed: IP literals as input, names at delivery", async () => {
    const guarded = await startTestServer({ config: { webhookPollIntervalMs: 50, leaseSweepIntervalMs: 0 } });
    try {
      const client = guarded.client({ workspace: "hooks" });
      for (const url of ["http://127.0.0.1:9/x", "http://[::1]/x", "http://169.254.169.254/latest", "http://10.1.2.3/", "http://[::ffff:192.168.0.1]/"]) {
        const result = (await client.request(CreateWebhookDocument, { input: { url } })).createWebhook;
        expect(expectType(result, "InvalidInputError").issues, url).toEqual([{ path: "input.url", message: expect.stringMatching(/private, loopback or link-local.*WEBHOOK_ALLOW_PRIVATE_TARGETS/) }]);
      }
      const target = await receiver();
      const sessionId = await session(client);
      const { webhook: hook } = await createWebhook({ url: `http://localhost:${target.port}/hook`, eventTypes: ["session.message"], entityIds: [sessionId] }, client);
      await append(sessionId, 1, client);
      let first;
      for (let i = 0; i < 200 && first?.status !== "FAILED"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        first = (await webhook(hook.id, client)).deliveries.edges[0]?.node;
      }
      expect(first).toMatchObject({ status: "FAILED", attempts: 1, responseStatus: null });
      expect(first!.error).toMatch(/refused: localhost resolves to (127\.0\.0\.1|::1), a private or loopback address/);
      expect(target.requests).toHaveLength(0);
    } finally {
      await guarded.stop();
    }
  });
});

describe("management", () => {
  it("refuses bad input with typed errors naming each field", async () => {
    const result = (
      await api.request(CreateWebhookDocument, {
        input: { url: "ftp://example.com/x", eventTypes: ["nope", "unknown.*", "webhook.delivery_succeeded"], secret: "hunter2", description: "d".repeat(501) },
      })
    ).createWebhook;
    const issues = expectType(result, "InvalidInputError").issues;
    expect(issues.map((i) => i.path).sort()).toEqual(["input.description", "input.eventTypes.0", "input.eventTypes.1", "input.eventTypes.2", "input.secret", "input.url"]);
    expect(issues.find((i) => i.path === "input.eventTypes.1")!.message).toMatch(/unknown topic "unknown"/);
    expect(issues.find((i) => i.path === "input.secret")!.message).toMatch(/whsec_/);
    const credentials = expectType((await api.request(CreateWebhookDocument, { input: { url: "https://user:pw@example.com/" } })).createWebhook, "InvalidInputError");
    expect(credentials.issues[0]!.path).toBe("input.url");
    const shortSecret = expectType((await api.request(CreateWebhookDocument, { input: { url: "https://example.com/", secret: "whsec_" + Buffer.alloc(8).toString("base64") } })).createWebhook, "InvalidInputError");
    expect(shortSecret.issues[0]!.message).toMatch(/24 to 64 bytes/);
    expect((await api.request(WebhooksDocument, {})).webhooks.edges.every((e) => e.node.url !== "ftp://example.com/x")).toBe(true);
  });

  it("is workspace-scoped and needs webhooks scopes; secrets are never readable", async () => {
    const { webhook: hook } = await createWebhook({ url: "https://example.com/hook", active: false });
    expect(hook).toMatchObject({ status: "DISABLED" });
    expect(hook.secretHint).toMatch(/^whsec_.{4}…$/);

    const other = server.client({ workspace: "elsewhere" });
    expect((await other.request(WebhookDocument, { id: hook.id })).webhook).toBeNull();
    expect((await other.request(WebhooksDocument, {})).webhooks.totalCount).toBe(0);
    expect(expectType((await other.request(UpdateWebhookDocument, { input: { webhookId: hook.id, description: "mine" } })).updateWebhook, "NotFoundError").entityType).toBe("Webhook");
    expect(expectType((await other.request(DeleteWebhookDocument, { webhookId: hook.id })).deleteWebhook, "NotFoundError").entityType).toBe("Webhook");

    const reader = server.client({ workspace: "hooks", scopes: ["webhooks:read"] });
    expect((await reader.request(WebhookDocument, { id: hook.id })).webhook?.url).toBe("https://example.com/hook");
    const refused = await reader.raw(CreateWebhookDocument, { input: { url: "https://example.com/" } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["webhooks:write"] });
    const blind = await server.client({ workspace: "hooks", scopes: ["tasks:read"] }).raw(WebhooksDocument, {});
    expect(blind.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    // Following a topic needs its read scope, as the audit trail does.
    const blindWriter = server.client({ workspace: "hooks", scopes: ["webhooks:write"] });
    const unreadable = expectType((await blindWriter.request(UpdateWebhookDocument, { input: { webhookId: hook.id, eventTypes: ["task.*", "agent.paused"] } })).updateWebhook, "InvalidInputError");
    expect(unreadable.issues).toEqual([
      { path: "input.eventTypes.0", message: "following task events needs the scope tasks:read, which this token does not grant" },
      { path: "input.eventTypes.1", message: "following agent events needs the scope agents:read, which this token does not grant" },
    ]);
    const writer = server.client({ workspace: "hooks", scopes: ["webhooks:write", "tasks:read", "agents:read"] });
    const updated = expectType((await writer.request(UpdateWebhookDocument, { input: { webhookId: hook.id, description: "audit feed", eventTypes: ["task.*", "agent.paused"] } })).updateWebhook, "UpdateWebhookPayload");
    expect(updated.webhook).toMatchObject({ url: "https://example.com/hook", description: "audit feed", eventTypes: ["task.*", "agent.paused"] });

    expect(expectType((await api.request(DisableWebhookDocument, { input: { webhookId: hook.id } })).disableWebhook, "IllegalTransitionError")).toMatchObject({ fromStatus: "DISABLED", action: "disableWebhook" });
    expect((await api.request(WebhooksDocument, { status: ["DISABLED"] })).webhooks.edges.map((e) => e.node.id)).toContain(hook.id);
    expect(expectType((await api.request(DeleteWebhookDocument, { webhookId: hook.id })).deleteWebhook, "DeleteWebhookPayload").webhookId).toBe(hook.id);
    expect((await api.request(WebhookDocument, { id: hook.id })).webhook).toBeNull();
  });
});
