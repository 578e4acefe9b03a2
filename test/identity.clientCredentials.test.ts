/**
 * Service accounts and the OAuth 2.0 client credentials grant, driven by a standard OAuth client
 * library (openid-client) against /oauth/token: token with the granted scopes, refresh with
 * rotation, reuse detection revoking the family, secret rotation, and a disabled account refused
 * everywhere. The audit trail records issuance, rotation and disabling, never a secret.
 */
import * as oauth from "openid-client";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, AuditTrailDocument, CreateServiceAccountDocument, DisableServiceAccountDocument, RotateServiceAccountSecretDocument, ServiceAccountsDocument, ViewerDocument } from "./generated/graphql.ts";
import { expectType, GraphQLClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const createAccount = async (workspace: string, name: string, scopes: string[]) =>
  expectType((await server.client({ workspace, subject: "ops" }).request(CreateServiceAccountDocument, { input: { name, scopes } })).createServiceAccount, "CreateServiceAccountPayload");
/** What a service does: discover our metadata, then talk OAuth through the library. */
const oauthClient = (clientId: string, clientSecret: string) =>
  oauth.discovery(new URL(server.url.replace(/\/graphql$/, "")), clientId, clientSecret, undefined, { execute: [oauth.allowInsecureRequests], algorithm: "oauth2" });
/** The OAuth error a rejected grant carries. */
const oauthError = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    const e = error as { error?: string; error_description?: string; status?: number };
    return { error: e.error, description: e.error_description, status: e.status };
  }
  throw new Error("expected the grant to be refused");
};
const refusal = async (token: string) => {
  const result = await new GraphQLClient(server.url, token).raw(AgentsDocument, { first: 1 });
  return { status: result.status, message: result.errors?.[0]?.message, data: result.data };
};

describe("client credentials", () => {
  it("gives a service account a short-lived signed token with its scopes, narrowed on request", async () => {
    const { serviceAccount, clientSecret } = await createAccount("ws-sa", "aia-ingest", ["agents:read", "tasks:claim"]);
    expect(serviceAccount).toMatchObject({ name: "aia-ingest", subject: "sa:aia-ingest", scopes: ["agents:read", "tasks:claim"], lastUsedAt: null, clientId: expect.stringMatching(/^sa_[0-9a-f]{32}$/) });
    const config = await oauthClient(serviceAccount.clientId, clientSecret);

    const tokens = await oauth.clientCredentialsGrant(config);
    expect(tokens).toMatchObject({ token_type: "bearer", scope: "agents:read tasks:claim", refresh_token: expect.stringMatching(/^sgr_/) });
    // Short-lived: ACCESS_TOKEN_TTL_SECONDS (counted down from issuance in whole seconds).
    expect(tokens.expires_in).toBeGreaterThan(0);
    expect(tokens.expires_in).toBeLessThanOrEqual(server.config.accessTokenTtlSeconds);
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe("ES256");
    const viewer = (await new GraphQLClient(server.url, tokens.access_token).request(ViewerDocument)).viewer;
    expect(viewer).toMatchObject({ subject: "sa:aia-ingest", workspaceId: "ws-sa", scopes: ["agents:read", "tasks:claim"] });

    const narrow = await oauth.clientCredentialsGrant(config, { scope: "agents:read" });
    expect((await new GraphQLClient(server.url, narrow.access_token).request(ViewerDocument)).viewer.scopes).toEqual(["agents:read"]);
    expect(await oauthError(oauth.clientCredentialsGrant(config, { scope: "agents:read admin" }))).toMatchObject({ error: "invalid_scope", status: 400 });

    const listed = (await server.client({ workspace: "ws-sa" }).request(ServiceAccountsDocument, { first: 10 })).serviceAccounts;
    expect(listed.edges.map((e) => e.node)).toEqual([expect.objectContaining({ name: "aia-ingest", lastUsedAt: expect.any(String) })]);
  });

  it("refuses a wrong secret, and after rotation the old secret but not the new one", async () => {
    const { serviceAccount, clientSecret } = await createAccount("ws-sa-rotate", "svc", ["agents:read"]);
    expect(await oauthError(oauth.clientCredentialsGrant(await oauthClient(serviceAccount.clientId, `${clientSecret}x`)))).toMatchObject({
      error: "invalid_client",
      // 400, not 401: the client authenticated in the form body, not with an Authorization header (RFC 6749 §5.2).
      status: 400,
      description: "Invalid client: unknown client or wrong client secret",
    });
    const rotated = expectType((await server.client({ workspace: "ws-sa-rotate" }).request(RotateServiceAccountSecretDocument, { input: { id: serviceAccount.id } })).rotateServiceAccountSecret, "RotateServiceAccountSecretPayload");
    expect(rotated.clientSecret).not.toBe(clientSecret);
    expect(await oauthError(oauth.clientCredentialsGrant(await oauthClient(serviceAccount.clientId, clientSecret)))).toMatchObject({ error: "invalid_client" });
    expect((await oauth.clientCredentialsGrant(await oauthClient(serviceAccount.clientId, rotated.clientSecret))).access_token).toBeTruthy();
  });

  it("rotates refresh tokens, and a reused one revokes its whole family, access tokens included", async () => {
    const { serviceAccount, clientSecret } = await createAccount("ws-sa-refresh", "svc", ["agents:read"]);
    const config = await oauthClient(serviceAccount.clientId, clientSecret);
    const first = await oauth.clientCredentialsGrant(config);
    const second = await oauth.refreshTokenGrant(config, first.refresh_token!);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.scope).toBe("agents:read");
    expect((await refusal(second.access_token)).data).toBeTruthy();

    // An unrelated family of the same account is untouched by what follows.
    const other = await oauth.clientCredentialsGrant(config);

    const reused = await oauthError(oauth.refreshTokenGrant(config, first.refresh_token!));
    expect(reused).toMatchObject({ error: "invalid_grant", status: 400 });
    expect(reused.description).toContain("already used");
    expect(await oauthError(oauth.refreshTokenGrant(config, second.refresh_token!))).toMatchObject({ error: "invalid_grant", description: expect.stringContaining("revoked") });
    for (const token of [first.access_token, second.access_token]) expect(await refusal(token)).toMatchObject({ status: 401, message: expect.stringContaining("refresh token was reused") });

    expect((await refusal(other.access_token)).data).toBeTruthy();
    expect((await oauth.refreshTokenGrant(config, other.refresh_token!)).access_token).toBeTruthy();
  });

  it("lets only one of many concurrent uses of a refresh token win; the rest count as reuse, and whatever won is revoked too", async () => {
    const { serviceAccount, clientSecret } = await createAccount("ws-sa-race", "svc", ["agents:read"]);
    const config = await oauthClient(serviceAccount.clientId, clientSecret);
    // Several rounds: the successor of the winning use must never outlive the family's revocation,
    // however the winner's rotation and the losers' revocation interleave.
    for (let round = 0; round < 6; round++) {
      const { refresh_token } = await oauth.clientCredentialsGrant(config);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => oauth.refreshTokenGrant(config, refresh_token!)));
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won.length).toBeLessThanOrEqual(1);
      expect(results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.error)).toEqual(Array(results.length - won.length).fill("invalid_grant"));
      if (won.length === 1) {
        const winner = (won[0] as PromiseFulfilledResult<oauth.TokenEndpointResponse>).value;
        expect(await oauthError(oauth.refreshTokenGrant(config, winner.refresh_token!)), `round ${round}`).toMatchObject({ error: "invalid_grant" });
        expect(await refusal(winner.access_token)).toMatchObject({ status: 401 });
      }
    }
  });

  it("refuses a disabled account everywhere: token endpoint, refresh, and the tokens it holds", async () => {
    const workspace = "ws-sa-disable";
    const { serviceAccount, clientSecret } = await createAccount(workspace, "svc", ["agents:read"]);
    const config = await oauthClient(serviceAccount.clientId, clientSecret);
    const tokens = await oauth.clientCredentialsGrant(config);
    const disabled = expectType((await server.client({ workspace }).request(DisableServiceAccountDocument, { input: { id: serviceAccount.id, reason: "decommissioned" } })).disableServiceAccount, "DisableServiceAccountPayload");
    expect(disabled.serviceAccount.disabledAt).not.toBeNull();

    expect(await oauthError(oauth.clientCredentialsGrant(config))).toMatchObject({ error: "invalid_client", description: expect.stringContaining("service account svc was disabled at") });
    expect(await refusal(tokens.access_token)).toMatchObject({ status: 401, message: expect.stringContaining("service account disabled: decommissioned") });
    expect((await server.client({ workspace }).request(ServiceAccountsDocument, { first: 10 })).serviceAccounts.totalCount).toBe(0);
    expect((await server.client({ workspace }).request(ServiceAccountsDocument, { first: 10, includeDisabled: true })).serviceAccounts.totalCount).toBe(1);

    const audit = await server.client({ workspace }).request(AuditTrailDocument, { first: 20, filter: { domain: ["identity"] } });
    expect(audit.auditTrail.edges.map((e) => e.node.action).sort()).toEqual(["identity.serviceAccountCreated", "identity.serviceAccountDisabled", "identity.tokenIssued"]);
    const text = JSON.stringify(audit);
    for (const secret of [clientSecret, tokens.access_token, tokens.refresh_token!]) expect(text).not.toContain(secret);
  });

  it("answers bad input, a taken name and a missing admin scope, and keeps to the workspace", async () => {
    const bad = (await server.client({ workspace: "ws-sa-bad" }).request(CreateServiceAccountDocument, { input: { name: "Bad Name", scopes: [] } })).createServiceAccount;
    expect(expectType(bad, "InvalidInputError").issues.map((i) => i.path).sort()).toEqual(["input.name", "input.scopes"]);
    const { serviceAccount } = await createAccount("ws-sa-bad", "taken", ["agents:read"]);
    const again = (await server.client({ workspace: "ws-sa-bad" }).request(CreateServiceAccountDocument, { input: { name: "taken", scopes: ["agents:read"] } })).createServiceAccount;
    expect(expectType(again, "InvalidInputError").issues).toEqual([{ path: "input.name", message: "a service account of this name exists in this workspace" }]);
    const notAdmin = await server.client({ workspace: "ws-sa-bad", scopes: ["agents:write"] }).raw(CreateServiceAccountDocument, { input: { name: "x", scopes: ["agents:read"] } });
    expect(notAdmin.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
    const elsewhere = (await server.client({ workspace: "ws-sa-other" }).request(DisableServiceAccountDocument, { input: { id: serviceAccount.id, reason: "x" } })).disableServiceAccount;
    expect(expectType(elsewhere, "NotFoundError").code).toBe("NOT_FOUND");
  });
});
