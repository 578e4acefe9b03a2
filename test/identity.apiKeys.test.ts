/**
 * API keys: created by an admin with scopes, shown once, stored hashed, accepted as
 * `Authorization: Bearer <key>` over HTTP and graphql-ws, listed with their last use, and
 * refused everywhere at once when revoked. The audit trail records creation and revocation,
 * never the key.
 */
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AgentsDocument, ApiKeysDocument, AuditTrailDocument, CreateApiKeyDocument, RegisterAgentDocument, RevokeApiKeyDocument, RevokeTokenDocument, ViewerDocument } from "./generated/graphql.ts";
import { expectType, GraphQLClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const createKey = async (s: TestServer, workspace: string, input: { label: string; scopes: string[]; expiresAt?: string }) =>
  expectType((await s.client({ workspace, subject: "ops-admin" }).request(CreateApiKeyDocument, { input })).createApiKey, "CreateApiKeyPayload");
const refusal = async (s: TestServer, token: string) => {
  const result = await new GraphQLClient(s.url, token).raw(AgentsDocument, { first: 1 });
  return { status: result.status, code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message, data: result.data };
};

describe("API keys", () => {
  it("shows the key once, keeps only its hash, and accepts it as a Bearer token with its scopes", async () => {
    const created = await createKey(server, "ws-keys", { label: "claude-flow agents", scopes: ["agents:read", "agents:read"] });
    expect(created.key).toMatch(/^sgk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({ label: "claude-flow agents", scopes: ["agents:read"], createdBy: "ops-admin", lastUsedAt: null, revokedAt: null });
    expect(created.key.startsWith(created.apiKey.prefix)).toBe(true);

    const rows = await server.db.prisma.apiKey.findMany({ where: { workspaceId: "ws-keys" } });
    expect(rows).toHaveLength(1);
    const secret = created.key.slice(37);
    expect(JSON.stringify(rows)).not.toContain(secret);

    const withKey = new GraphQLClient(server.url, created.key);
    expect((await withKey.request(ViewerDocument)).viewer).toMatchObject({ subject: `apikey:${created.apiKey.keyId}`, workspaceId: "ws-keys", scopes: ["agents:read"], tokenId: created.apiKey.keyId });
    expect((await withKey.raw(AgentsDocument, { first: 1 })).data?.agents).toBeTruthy();
    const write = await withKey.raw(RegisterAgentDocument, { input: { name: "x", type: "worker", capabilities: [] } });
    expect(write.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });

    const listed = (await server.client({ workspace: "ws-keys" }).request(ApiKeysDocument, { first: 10 })).apiKeys;
    expect(listed.totalCount).toBe(1);
    expect(listed.edges[0]!.node.lastUsedAt).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it("refuses a wrong secret, a malformed key and an unknown key, saying which", async () => {
    const { key } = await createKey(server, "ws-keys-bad", { label: "k", scopes: ["agents:read"] });
    const wrong = `${key.slice(0, -4)}AAAA`;
    expect(await refusal(server, wrong)).toMatchObject({ status: 401, code: "UNAUTHENTICATED", message: "invalid API key: wrong secret" });
    expect(await refusal(server, "sgk_short")).toMatchObject({ status: 401, message: expect.stringContaining("not of the form") });
    const unknown = `sgk_${"0".repeat(32)}_${key.slice(37)}`;
    expect(await refusal(server, unknown)).toMatchObject({ status: 401, message: "invalid API key: no such key" });
  });

  it("answers bad input, needs admin and stays in its workspace", async () => {
    const bad = (await server.client({ workspace: "ws-keys-in" }).request(CreateApiKeyDocument, { input: { label: " ", scopes: ["agents:read", "root"] } })).createApiKey;
    expect(expectType(bad, "InvalidInputError").issues.map((i) => i.path).sort()).toEqual(["input.label", "input.scopes"]);
    const past = (await server.client({ workspace: "ws-keys-in" }).request(CreateApiKeyDocument, { input: { label: "old", scopes: ["agents:read"], expiresAt: "2020-01-01T00:00:00Z" } })).createApiKey;
    expect(expectType(past, "InvalidInputError").issues).toEqual([{ path: "input.expiresAt", message: "must be in the future" }]);
    const notAdmin = await server.client({ workspace: "ws-keys-in", scopes: ["agents:write"] }).raw(CreateApiKeyDocument, { input: { label: "k", scopes: ["agents:read"] } });
    expect(notAdmin.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });

    const { apiKey, key } = await createKey(server, "ws-keys-in", { label: "mine", scopes: ["agents:read"] });
    const elsewhere = (await server.client({ workspace: "ws-keys-out" }).request(RevokeApiKeyDocument, { input: { id: apiKey.id, reason: "not yours" } })).revokeApiKey;
    expect(expectType(elsewhere, "NotFoundError").code).toBe("NOT_FOUND");
    expect((await server.client({ workspace: "ws-keys-out" }).request(ApiKeysDocument, { first: 10 })).apiKeys.totalCount).toBe(0);
    expect((await refusal(server, key)).data).toBeTruthy();
  });

  it("revokes at once: HTTP refused with the reason, open sockets closed with 4403, audit without the key", async () => {
    const workspace = "ws-keys-revoke";
    const { apiKey, key } = await createKey(server, workspace, { label: "leaky", scopes: ["agents:read"] });
    expect((await refusal(server, key)).data).toBeTruthy();
    let connected!: () => void;
    const acknowledged = new Promise<void>((resolve) => (connected = resolve));
    const closed = new Promise<number>((resolve) => {
      createClient({ url: server.wsUrl, webSocketImpl: WebSocket, lazy: false, onNonLazyError: () => undefined, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` }, on: { connected, closed: (e) => resolve((e as { code: number }).code) } });
    });
    // The connection is accepted first: the close must come from the revocation.
    await acknowledged;
    const admin = server.client({ workspace });
    const revoked = expectType((await admin.request(RevokeApiKeyDocument, { input: { id: apiKey.id, reason: "pasted in a chat" } })).revokeApiKey, "RevokeApiKeyPayload");
    expect(revoked.apiKey.revokedAt).not.toBeNull();
    expect(await closed).toBe(4403);
    expect(await refusal(server, key)).toMatchObject({ status: 401, code: "UNAUTHENTICATED", message: expect.stringContaining("(pasted in a chat)") });

    // Revoking again keeps the first revocation; the list hides it unless asked.
    const again = expectType((await admin.request(RevokeApiKeyDocument, { input: { id: apiKey.id, reason: "again" } })).revokeApiKey, "RevokeApiKeyPayload");
    expect(again.apiKey.revokedAt).toBe(revoked.apiKey.revokedAt);
    expect((await admin.request(ApiKeysDocument, { first: 10 })).apiKeys.totalCount).toBe(0);
    expect((await admin.request(ApiKeysDocument, { first: 10, includeRevoked: true })).apiKeys.edges.map((e) => e.node.id)).toEqual([apiKey.id]);

    const audit = await admin.request(AuditTrailDocument, { first: 10, filter: { domain: ["identity"] } });
    expect(audit.auditTrail.edges.map((e) => e.node.action).sort()).toEqual(["identity.apiKeyCreated", "identity.apiKeyRevoked"]);
    expect(JSON.stringify(audit)).not.toContain(key.slice(37));
  });

  it("is revocable through revokeToken with its key id too", async () => {
    const { apiKey, key } = await createKey(server, "ws-keys-token", { label: "k", scopes: ["agents:read"] });
    expectType((await server.client({ workspace: "ws-keys-token" }).request(RevokeTokenDocument, { input: { tokenId: apiKey.keyId, reason: "by token id" } })).revokeToken, "RevokeTokenPayload");
    expect(await refusal(server, key)).toMatchObject({ status: 401, message: expect.stringContaining("(by token id)") });
  });

  if (onPostgres) {
    it("a key revoked on one replica is refused on the other, which had it cached", async () => {
      const replica = await startTestServer({ replicaOf: server });
      try {
        const { apiKey, key } = await createKey(server, "ws-keys-replica", { label: "k", scopes: ["agents:read"] });
        expect((await refusal(replica, key)).data).toBeTruthy();
        await server.client({ workspace: "ws-keys-replica" }).request(RevokeApiKeyDocument, { input: { id: apiKey.id, reason: "gone" } });
        await replica.events.tailer.drain();
        expect(await refusal(replica, key)).toMatchObject({ status: 401, message: expect.stringContaining("(gone)") });
      } finally {
        await replica.stop();
      }
    });
  }
});
