/**
 * Token revocation: a revoked token is refused over HTTP with the time and reason, its open
 * WebSockets close with 4403 (subscribed or idle) and its streams end; every replica, and a
 * server started later, refuses it too. Tokens of other subjects and workspaces are untouched.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { AgentsDocument, AuditTrailDocument, CreateTaskDocument, RevokeSubjectTokensDocument, RevokeTokenDocument, TaskEventsDocument, TokenRevocationsDocument, ViewerDocument } from "./generated/graphql.ts";
import { collect, expectType, GraphQLClient, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const tokenIdOf = async (s: TestServer, token: string) => (await new GraphQLClient(s.url, token).request(ViewerDocument)).viewer.tokenId!;
const revokeToken = async (s: TestServer, workspace: string, tokenId: string, reason: string) =>
  expectType((await s.client({ workspace, subject: "security-officer" }).request(RevokeTokenDocument, { input: { tokenId, reason } })).revokeToken, "RevokeTokenPayload").revocation;
const refusal = async (s: TestServer, token: string) => {
  const result = await new GraphQLClient(s.url, token).raw(AgentsDocument, { first: 1 });
  return { status: result.status, code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message, data: result.data };
};
/** A graphql-ws client that connects at once and stays connected while idle. */
const idleConnection = (s: TestServer, token: string, onClosed: (code: number) => void) =>
  createClient({ url: s.wsUrl, webSocketImpl: WebSocket, lazy: false, onNonLazyError: () => undefined, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` }, on: { closed: (e) => onClosed((e as { code: number }).code) } });

describe("revokeToken", () => {
  it("refuses the revoked token with when and why, keeps the holder's other tokens, and records who revoked", async () => {
    const workspace = "ws-revoke-one";
    const leaked = server.token({ workspace, subject: "agent-7", scopes: ["agents:read"] });
    const other = server.token({ workspace, subject: "agent-7", scopes: ["agents:read"] });
    const tokenId = await tokenIdOf(server, leaked);
    expect(tokenId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await tokenIdOf(server, other)).not.toBe(tokenId);

    const revocation = await revokeToken(server, workspace, tokenId, "leaked in a CI log");
    expect(revocation).toMatchObject({ tokenId, subject: null, reason: "leaked in a CI log", revokedBy: "security-officer" });

    const refused = await refusal(server, leaked);
    expect(refused).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    expect(refused.message).toMatch(/^access token revoked at \d{4}-\d\d-\d\dT.* \(leaked in a CI log\); ask for a new token$/);
    expect((await refusal(server, other)).data).toBeTruthy();

    // Idempotent: the same token again returns the first revocation and records nothing new.
    expect((await revokeToken(server, workspace, tokenId, "again")).id).toBe(revocation.id);
    const admin = server.client({ workspace });
    expect((await admin.request(TokenRevocationsDocument, { first: 10 })).tokenRevocations).toMatchObject({ totalCount: 1, edges: [{ node: { id: revocation.id, tokenId } }] });
    const audit = await admin.request(AuditTrailDocument, { first: 10, filter: { domain: ["token"] } });
    expect(audit.auditTrail.edges.map((e) => e.node)).toEqual([expect.objectContaining({ action: "token.revoked", domain: "token", actor: "security-officer", entityGlobalId: revocation.id })]);
    // The trail names the token's id, never the token.
    expect(JSON.stringify(audit)).not.toContain(leaked);
  });

  it("answers bad input and a missing scope, lets a token revoke only itself without admin, and keeps to the workspace", async () => {
    const invalid = (await server.client({ workspace: "ws-revoke-bad" }).request(RevokeTokenDocument, { input: { tokenId: "my-token", reason: " " } })).revokeToken;
    expect(expectType(invalid, "InvalidInputError").issues.map((i) => i.path).sort()).toEqual(["input.reason", "input.tokenId"]);

    const victim = server.token({ workspace: "ws-revoke-bad", subject: "victim", scopes: ["agents:read"] });
    const victimId = await tokenIdOf(server, victim);
    const notAdmin = await server.client({ workspace: "ws-revoke-bad", scopes: ["agents:write", "tasks:write"] }).raw(RevokeTokenDocument, { input: { tokenId: victimId, reason: "no" } });
    expect(notAdmin.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["admin"] });

    // Without admin, a token can revoke itself (an agent signing off), and nothing else.
    const own = await new GraphQLClient(server.url, victim).request(RevokeTokenDocument, { input: { tokenId: victimId, reason: "signing off" } });
    expect(expectType(own.revokeToken, "RevokeTokenPayload").revocation).toMatchObject({ tokenId: victimId, revokedBy: "victim" });
    expect(await refusal(server, victim)).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });

    // An admin of another workspace revokes an id in its own workspace only: the token still works.
    const bystander = server.token({ workspace: "ws-revoke-bad", subject: "bystander", scopes: ["agents:read"] });
    const bystanderId = await tokenIdOf(server, bystander);
    await revokeToken(server, "ws-revoke-elsewhere", bystanderId, "not mine to revoke");
    expect((await refusal(server, bystander)).data).toBeTruthy();
    const listed = (await server.client({ workspace: "ws-revoke-bad" }).request(TokenRevocationsDocument, { first: 10 })).tokenRevocations;
    expect(listed.edges.map((e) => e.node.tokenId)).toEqual([victimId]);
  });
});

describe("revokeSubjectTokens", () => {
  it("refuses every token of the subject issued up to then; later ones and other subjects work", async () => {
    const workspace = "ws-revoke-subject";
    const first = server.token({ workspace, subject: "departed", scopes: ["agents:read"] });
    const second = server.token({ workspace, subject: "departed", scopes: ["admin"] });
    const bystander = server.token({ workspace, subject: "colleague", scopes: ["agents:read"] });

    const payload = (await server.client({ workspace }).request(RevokeSubjectTokensDocument, { input: { subject: "departed", reason: "left the team" } })).revokeSubjectTokens;
    expect(expectType(payload, "RevokeTokenPayload").revocation).toMatchObject({ subject: "departed", tokenId: null, reason: "left the team" });

    for (const token of [first, second]) {
      const refused = await refusal(server, token);
      expect(refused).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
      expect(refused.message).toMatch(/every access token of departed issued up to then was revoked at .* \(left the team\)/);
    }
    expect((await refusal(server, bystander)).data).toBeTruthy();

    // Tokens carry their issue time in whole seconds: one minted in a later second is accepted.
    await new Promise((resolve) => setTimeout(resolve, 1_050 - (Date.now() % 1_000)));
    expect((await refusal(server, server.token({ workspace, subject: "departed", scopes: ["agents:read"] }))).data).toBeTruthy();
  });
});

describe("open connections", () => {
  it("closes the revoked principal's sockets with 4403, subscribed or idle, and leaves others streaming", async () => {
    const workspace = "ws-revoke-live";
    const closed: Record<string, number> = {};
    const watcher = wsClient(server.wsUrl, server.token({ workspace, subject: "watcher", scopes: ["tasks:read"] }), (e) => (closed.subscribed = e.code));
    const idle = idleConnection(server, server.token({ workspace, subject: "watcher", scopes: ["tasks:read"] }), (code) => (closed.idle = code));
    const survivor = wsClient(server.wsUrl, server.token({ workspace, subject: "dashboard", scopes: ["tasks:read"] }));
    const admin = server.client({ workspace });
    try {
      const watched = collect(watcher, TaskEventsDocument, { after: "0" });
      const kept = collect(survivor, TaskEventsDocument, { after: "0" });
      await admin.request(CreateTaskDocument, { input: { description: "before", type: "revoke-test" } });
      await watched.waitFor(1);
      await kept.waitFor(1);
      await vi.waitFor(() => expect(server.revocations.watching).toBe(3));

      await admin.request(RevokeSubjectTokensDocument, { input: { subject: "watcher", reason: "rotating credentials" } });
      await watched.ended;
      await vi.waitFor(() => expect(closed).toEqual({ subscribed: 4403, idle: 4403 }));

      await admin.request(CreateTaskDocument, { input: { description: "after", type: "revoke-test" } });
      await kept.waitFor(2);
      expect(watched.events).toHaveLength(1);
      expect(kept.events.map((e) => e.taskEvents.task?.description)).toEqual(["before", "after"]);
      // Closed connections stop watching the list; the survivor still does.
      await vi.waitFor(() => expect(server.revocations.watching).toBe(1));
    } finally {
      await Promise.all([watcher.dispose(), idle.dispose(), survivor.dispose()]);
    }
  });

  it("refuses a revoked token at connection_init with 4403", async () => {
    const token = server.token({ workspace: "ws-revoke-init", subject: "gone", scopes: ["tasks:read"] });
    await revokeToken(server, "ws-revoke-init", await tokenIdOf(server, token), "test");
    let code: number | undefined;
    const client = wsClient(server.wsUrl, token, (e) => (code = e.code));
    const sub = collect(client, TaskEventsDocument, {});
    await sub.ended;
    await client.dispose();
    expect(code).toBe(4403);
  });

  it("ends a revoked token's stream over SSE with FORBIDDEN", async () => {
    const workspace = "ws-revoke-sse";
    const token = server.token({ workspace, subject: "sse-reader", scopes: ["tasks:read"] });
    const tokenId = await tokenIdOf(server, token);
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "subscription { taskEvents { type } }" }),
      signal: AbortSignal.timeout(60_000),
    });
    await revokeToken(server, workspace, tokenId, "sse test");
    // The stream ends by itself, its last message the error.
    const text = await response.text();
    expect(text).toMatch(/"code":"FORBIDDEN"/);
    expect(text).toMatch(/access token revoked at .* \(sse test\)/);
  });
  it("ends a revoked token's stream of one task (taskProgress) over SSE, though it follows no token events", async () => {
    const workspace = "ws-revoke-sse-task";
    const taskId = expectType((await server.client({ workspace }).request(CreateTaskDocument, { input: { description: "watched", type: "revoke-test" } })).createTask, "CreateTaskPayload").task.id;
    const token = server.token({ workspace, subject: "sse-task-reader", scopes: ["tasks:read"] });
    const tokenId = await tokenIdOf(server, token);
    const listening = server.events.bus.listenerCount;
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "subscription ($taskId: ID!) { taskProgress(taskId: $taskId) { type } }", variables: { taskId } }),
      signal: AbortSignal.timeout(20_000),
    });
    // The stream waits for its task's events when the revocation arrives: only the revocation's event can wake it.
    await vi.waitFor(() => expect(server.events.bus.listenerCount).toBe(listening + 1));
    await revokeToken(server, workspace, tokenId, "sse task test");
    const text = await response.text();
    expect(text).toMatch(/access token revoked at .* \(sse task test\)/);
  });
});

describe(onPostgres ? "replicas: a revocation on one server holds on the other and on one started later" : "a revocation survives a restart (replicas need PostgreSQL)", () => {
  it("refuses the token everywhere", async () => {
    const redisUrl = "redis://127.0.0.1:6379";
    const dataDir = onPostgres ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-revoke-"));
    const a = await startTestServer({ dataDir, config: { redisUrl } });
    const workspace = "ws-revoke-replicas";
    const token = a.token({ workspace, subject: "roaming", scopes: ["agents:read", "tasks:read"] });
    const tokenId = await tokenIdOf(a, token);
    let b: TestServer | undefined;
    let closedOnB: number | undefined;
    try {
      if (onPostgres) {
        b = await startTestServer({ replicaOf: a, config: { redisUrl } });
        const onB = wsClient(b.wsUrl, token, (e) => (closedOnB = e.code));
        const sub = collect(onB, TaskEventsDocument, {});
        await vi.waitFor(() => expect(b!.revocations.watching).toBe(1));
        await revokeToken(a, workspace, tokenId, "revoked on A");
        await sub.ended;
        await onB.dispose();
        expect(closedOnB).toBe(4403);
        await b.events.tailer.drain();
        expect(await refusal(b, token)).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
      } else {
        await revokeToken(a, workspace, tokenId, "revoked before a restart");
      }
      // A server started after the revocation loads it from the database.
      const later = onPostgres
        ? await startTestServer({ replicaOf: a })
        : (await a.stop(), await startTestServer({ dataDir, config: { jwtSecret: a.jwtSecret } }));
      try {
        expect(await refusal(later, token)).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
        expect((await refusal(later, later.token({ workspace, subject: "roaming", scopes: ["agents:read"] }))).data).toBeTruthy();
      } finally {
        await later.stop();
      }
    } finally {
      await b?.stop();
      await a.stop();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
