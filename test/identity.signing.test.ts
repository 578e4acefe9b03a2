/**
 * Asymmetric access tokens: the server signs with an ES256 (or EdDSA) key pair, publishes the
 * public keys at /.well-known/jwks.json so another service verifies its tokens with a standard
 * library, rotates keys without refusing tokens of the previous key, and keeps accepting HS256
 * tokens of the shared secret.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, RevokeTokenDocument, ViewerDocument } from "./generated/graphql.ts";
import { expectType, GraphQLClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const jwksUrl = (s: TestServer) => new URL("/.well-known/jwks.json", s.url);
const jwks = async (s: TestServer) => (await (await fetch(jwksUrl(s))).json()) as { keys: Record<string, unknown>[] };
const refusal = async (s: TestServer, token: string) => {
  const result = await new GraphQLClient(s.url, token).raw(AgentsDocument, { first: 1 });
  return { status: result.status, code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message };
};

describe("signing keys and JWKS", () => {
  it("publishes only public keys, and a token the server issues verifies with them in another library", async () => {
    const response = await fetch(jwksUrl(server));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/jwk-set+json");
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty("d");

    const token = await server.issuedToken({ workspace: "ws-sign", subject: "svc-a", scopes: ["agents:read"] });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "ES256", kid: keys[0]!.kid });
    // What another service does: verify against our JWKS URL only.
    const { payload } = await jwtVerify(token, createRemoteJWKSet(jwksUrl(server)), { issuer: "swarmgraph", audience: "swarmgraph" });
    expect(payload).toMatchObject({ sub: "svc-a", ws: "ws-sign", scopes: ["agents:read"] });

    const viewer = (await new GraphQLClient(server.url, token).request(ViewerDocument)).viewer;
    expect(viewer).toMatchObject({ subject: "svc-a", workspaceId: "ws-sign", scopes: ["agents:read"], tokenId: payload.jti });
  });

  it("keeps accepting HS256 tokens of the shared secret beside the key pair's", async () => {
    const viewer = (await server.client({ workspace: "ws-sign", subject: "cli" }).request(ViewerDocument)).viewer;
    expect(viewer).toMatchObject({ subject: "cli", workspaceId: "ws-sign" });
  });

  it("refuses a tampered token, a token of an unknown key and a foreign issuer, saying which", async () => {
    const token = await server.issuedToken({ workspace: "ws-sign" });
    const [h, p, sig] = token.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, scopes: ["admin"], ws: "ws-other" })).toString("base64url");
    expect(await refusal(server, `${h}.${forgedPayload}.${sig}`)).toMatchObject({ status: 401, code: "UNAUTHENTICATED", message: "invalid access token: invalid signature" });

    // A well-formed token signed by a key the server never made, under a kid it does not know.
    const stranger = await generateKeyPair("ES256");
    const unknownKid = await new SignJWT({ ws: "ws-sign", scopes: ["admin"] })
      .setProtectedHeader({ alg: "ES256", kid: "not-ours" })
      .setSubject("mallory")
      .setIssuer("swarmgraph")
      .setAudience("swarmgraph")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(stranger.privateKey);
    const unknown = await refusal(server, unknownKid);
    expect(unknown).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
    expect(unknown.message).toContain('unknown or retired key (kid "not-ours")');

    const foreign = await new SignJWT({ ws: "ws-sign", scopes: ["admin"] }).setProtectedHeader({ alg: "ES256" }).setIssuer("https://elsewhere.example").setAudience("swarmgraph").setSubject("x").setIssuedAt().setExpirationTime("5m").sign(stranger.privateKey);
    const refused = await refusal(server, foreign);
    expect(refused.message).toContain('issuer "https://elsewhere.example" is not trusted');
    expect(JSON.stringify(await exportJWK(stranger.publicKey))).not.toContain(refused.message!);
  });

  it("rotates: new tokens name the new key, tokens of the previous key still work, both are published", async () => {
    const before = await server.issuedToken({ workspace: "ws-rotate", subject: "old" });
    const oldKid = decodeProtectedHeader(before).kid;
    const newKid = await server.signingKeys.rotate();
    expect(newKid).not.toBe(oldKid);
    const after = await server.issuedToken({ workspace: "ws-rotate", subject: "new" });
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect((await jwks(server)).keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    expect((await new GraphQLClient(server.url, before).request(ViewerDocument)).viewer.subject).toBe("old");
    expect((await new GraphQLClient(server.url, after).request(ViewerDocument)).viewer.subject).toBe("new");
    // Rotation when not due does nothing.
    expect(await server.signingKeys.rotateIfDue()).toBe(false);
  });

  it("revokes an issued token by its id like any other token", async () => {
    const token = await server.issuedToken({ workspace: "ws-sign-revoke", subject: "agent", scopes: ["agents:read"] });
    const tokenId = (await new GraphQLClient(server.url, token).request(ViewerDocument)).viewer.tokenId!;
    expectType((await server.client({ workspace: "ws-sign-revoke" }).request(RevokeTokenDocument, { input: { tokenId, reason: "rotated out" } })).revokeToken, "RevokeTokenPayload");
    expect(await refusal(server, token)).toMatchObject({ status: 401, code: "UNAUTHENTICATED", message: expect.stringContaining("(rotated out)") });
  });
});

describe("signing keys across restarts and replicas", () => {
  it("keeps its keys over a restart (tokens stay valid) and signs with EdDSA when configured", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-keys-"));
    let s = await startTestServer({ dataDir, config: { tokenSigningAlg: "EdDSA" } });
    try {
      const token = await s.issuedToken({ workspace: "ws-eddsa", subject: "ed" });
      expect(decodeProtectedHeader(token).alg).toBe("EdDSA");
      expect((await jwks(s)).keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
      s = await s.restart();
      expect((await new GraphQLClient(s.url, token).request(ViewerDocument)).viewer.subject).toBe("ed");
      expect((await jwks(s)).keys).toHaveLength(1);
    } finally {
      await s.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  if (onPostgres) {
    it("a key rotated on one replica verifies at once on the other", async () => {
      const replica = await startTestServer({ replicaOf: server });
      try {
        const kid = await server.signingKeys.rotate();
        const token = await server.issuedToken({ workspace: "ws-replica-keys", subject: "from-a" });
        expect(decodeProtectedHeader(token).kid).toBe(kid);
        expect((await new GraphQLClient(replica.url, token).request(ViewerDocument)).viewer.subject).toBe("from-a");
        expect((await jwks(replica)).keys.map((k) => k.kid)).toContain(kid);
      } finally {
        await replica.stop();
      }
    });
  }
});
