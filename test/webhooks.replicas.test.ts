/**
 * Webhooks across processes: a server killed with SIGKILL in the middle of a delivery loses
 * nothing (the next server sends it again with the same webhook-id, then the rest in order), and
 * on PostgreSQL two replicas share endpoints through leases without ever sending an event twice.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signToken } from "../src/auth/tokens.ts";
import { AppendMessagesDocument, CreateSessionDocument, CreateWebhookDocument, WebhookDocument } from "./generated/graphql.ts";
import { expectType, GraphQLClient } from "./support/client.ts";
import { createTestDatabase, onPostgres, type TestDatabase } from "./support/database.ts";
import { startTestServer } from "./support/server.ts";
import { type Receiver, startReceiver } from "./support/webhookReceiver.ts";

const MAIN = path.resolve(import.meta.dirname, "../src/main.ts");
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// WEBHOOK_MAX_ATTEMPTS at its maximum: on a loaded machine a slow receiver must not see deliveries given up.
const FAST = { webhookAllowPrivateTargets: true, webhookRetryBaseMs: 40, webhookRetryMaxMs: 200, webhookMaxAttempts: 100, webhookPollIntervalMs: 30, leaseSweepIntervalMs: 0 } as const;

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

async function session(api: GraphQLClient): Promise<string> {
  return expectType((await api.request(CreateSessionDocument, { input: { label: "hooked" } })).createSession, "CreateSessionPayload").session.id;
}
async function append(api: GraphQLClient, sessionId: string, count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, i) => ({ role: "USER" as const, content: `m${i}` }));
  expectType((await api.request(AppendMessagesDocument, { input: { sessionId, messages } })).appendMessages, "AppendMessagesPayload");
}
async function hook(api: GraphQLClient, url: string, sessionId: string) {
  return expectType((await api.request(CreateWebhookDocument, { input: { url, eventTypes: ["session.message"], entityIds: [sessionId] } })).createWebhook, "CreateWebhookPayload").webhook;
}

/** `swarmgraph serve` as its own process, so it can be killed with SIGKILL; resolves with its GraphQL URL. */
async function serveProcess(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const { JWT_SECRET: _secret, DATABASE_URL: _url, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "serve"], { env: { ...inherited, PORT: "0", LOG_LEVEL: "silent", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  });
  let text = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      text += chunk;
      const match = /GraphiQL:\s+(\S+)/.exec(text);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}: ${text}`)));
  });
  return { url, child };
}

describe("kill -9 mid-delivery", () => {
  it("loses nothing: the next server sends the interrupted event again (same webhook-id), then the rest in order", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-webhook-kill-"));
    const db: TestDatabase = onPostgres ? await createTestDatabase() : { target: { kind: "pglite", dataDir }, drop: async () => undefined };
    const secret = randomBytes(32).toString("hex");
    const env = {
      JWT_SECRET: secret,
      ...(db.target.kind === "postgres" ? { DATABASE_URL: db.target.url } : { DATA_DIR: dataDir }),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      WEBHOOK_LEASE_SECONDS: "2",
      WEBHOOK_TIMEOUT_MS: "1500",
      WEBHOOK_POLL_INTERVAL_MS: "30",
      LEASE_SWEEP_INTERVAL_MS: "0",
    };
    const first = await serveProcess(env);
    const token = signToken(secret, { subject: "ops", workspaceId: "hooks", scopes: ["admin"], ttl: "1h" });
    const target = await receiver();
    target.answer = (_r, index) => (index === 0 ? "hang" : 200);
    const before = new GraphQLClient(first.url, token);
    const sessionId = await session(before);
    const webhook = await hook(before, target.url, sessionId);
    await append(before, sessionId, 3);
    await target.until(() => target.requests.length === 1);
    first.child.kill("SIGKILL");
    await new Promise((resolve) => first.child.once("exit", resolve));

    const next = await startTestServer({ config: { ...FAST, jwtSecret: secret }, reuse: { db, dataDir } });
    cleanups.push(() => next.stop());
    await target.until(() => target.accepted.length === 3);
    expect(target.accepted.map((r) => r.body.data.payload.seq)).toEqual([1, 2, 3]);
    expect(target.requests).toHaveLength(4);
    expect(target.accepted[0]!.id).toBe(target.requests[0]!.id);
    const api = next.client({ workspace: "hooks" });
    let logged = (await api.request(WebhookDocument, { id: webhook.id })).webhook!;
    for (let i = 0; i < 200 && logged.deliveredCount < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      logged = (await api.request(WebhookDocument, { id: webhook.id })).webhook!;
    }
    expect(logged.deliveries.edges.map((e) => [e.node.status, e.node.attempts]).reverse()).toEqual([["SUCCEEDED", 2], ["SUCCEEDED", 1], ["SUCCEEDED", 1]]);
  });
});

if (onPostgres) {
  describe("two replicas", () => {
    it("share endpoints through leases: every event reaches every endpoint exactly once, in order", async () => {
      const a = await startTestServer({ config: FAST });
      cleanups.push(() => a.stop());
      const b = await startTestServer({ config: FAST, replicaOf: a });
      cleanups.push(() => b.stop());
      const apiA = a.client({ workspace: "hooks" });
      const apiB = b.client({ workspace: "hooks" });
      const sessionId = await session(apiA);
      const targets = await Promise.all(Array.from({ length: 4 }, () => receiver()));
      for (const [i, target] of targets.entries()) await hook(i % 2 ? apiA : apiB, target.url, sessionId);
      // Concurrent appends through both replicas: the session lock orders them (seq 1…40).
      await Promise.all(Array.from({ length: 20 }, (_, i) => append(i % 2 ? apiA : apiB, sessionId, 2)));
      for (const target of targets) await target.until(() => target.accepted.length >= 40);
      for (const target of targets) {
        expect(target.requests).toHaveLength(40);
        expect(new Set(target.requests.map((r) => r.id)).size).toBe(40);
        expect(target.requests.map((r) => r.body.data.payload.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      }
    });
  });
}
