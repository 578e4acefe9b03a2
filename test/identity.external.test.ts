/**
 * An external identity provider: a test issuer with its own key pair, serving its JWKS on
 * localhost. The server accepts its tokens with the workspace and scopes mapped from the
 * configured claims, caches its keys, and refuses a wrong audience, an unknown key, a missing
 * workspace claim and an expired token with a message that says which.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, RevokeTokenDocument, ViewerDocument } from "./generated/graphql.ts";
import { expectType, GraphQLClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const ISSUER = "https://idp.example.test";
const AUDIENCE = "swarmgraph-prod";

let idp: { url: string; fetches: number; close(): Promise<void> };
let signingKey: CryptoKey;
let server: TestServer;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" }] };
  let fetches = 0;
  const httpServer = http.createServer((req, res) => {
    if (req.url !== "/jwks") return void res.writeHead(404).end();
    fetches += 1;
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  idp = {
    url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/jwks`,
    get fetches() {
      return fetches;
    },
    close: () => new Promise((resolve) => httpServer.close(() => resolve())),
  };
  server = await startTestServer({ config: { externalIssuer: ISSUER, externalJwksUrl: idp.url, externalAudience: AUDIENCE, externalWorkspaceClaim: "org", externalScopesClaim: "scope" } });
});
afterAll(async () => {
  await server?.stop();
  await idp?.close();
});

const idpToken = (claims: JWTPayload, options: { kid?: string; audience?: string; expires?: string | number } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: options.kid ?? "idp-1" })
    .setIssuer(ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject("alice@example.test")
    .setIssuedAt()
    .setExpirationTime(options.expires ?? "10m")
    .sign(signingKey);

const refusal = async (token: string) => {
  const result = await new GraphQLClient(server.url, token).raw(AgentsDocument, { first: 1 });
  return { status: result.status, code: result.errors?.[0]?.extensions?.code, message: result.errors?.[0]?.message };
};

describe("external identity provider", () => {
  it("accepts its tokens with the mapped workspace and scopes, fetching its keys once", async () => {
    const token = await idpToken({ org: "ws-acme", scope: "agents:read tasks:write openid profile", jti: "idp-token-1" });
    const client = new GraphQLClient(server.url, token);
    expect((await client.request(ViewerDocument)).viewer).toMatchObject({ subject: "alice@example.test", workspaceId: "ws-acme", scopes: ["agents:read", "tasks:write"], tokenId: "idp-token-1" });
    expect((await client.raw(AgentsDocument, { first: 1 })).data?.agents).toBeTruthy();
    const fetched = idp.fetches;
    expect(fetched).toBe(1);
    await client.request(ViewerDocument);
    await new GraphQLClient(server.url, await idpToken({ org: "ws-acme", scope: "agents:read" })).request(ViewerDocument);
    expect(idp.fetches).toBe(fetched);
  });

  it("refuses a wrong audience, an unknown key, a missing workspace claim and an expired token, saying which", async () => {
    expect(await refusal(await idpToken({ org: "ws-acme" }, { audience: "another-api" }))).toMatchObject({
      status: 401,
      code: "UNAUTHENTICATED",
      message: `token of issuer ${ISSUER} refused: audience "another-api" is not "${AUDIENCE}"`,
    });
    expect(await refusal(await idpToken({ org: "ws-acme" }, { kid: "idp-2" }))).toMatchObject({ status: 401, message: `token of issuer ${ISSUER} refused: no key in ${idp.url} matches the token's key id (kid)` });
    expect(await refusal(await idpToken({ scope: "admin" }))).toMatchObject({ status: 401, message: expect.stringContaining("its org claim must name a workspace") });
    const expired = await refusal(await idpToken({ org: "ws-acme" }, { expires: Math.floor(Date.now() / 1000) - 60 }));
    expect(expired).toMatchObject({ status: 401, message: expect.stringMatching(new RegExp(`^token of issuer ${ISSUER} refused: access token expired at `)) });

    // A token signed by someone else under the provider's kid.
    const impostor = await generateKeyPair("RS256");
    const forged = await new SignJWT({ org: "ws-acme", scope: "admin" }).setProtectedHeader({ alg: "RS256", kid: "idp-1" }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject("mallory").setIssuedAt().setExpirationTime("5m").sign(impostor.privateKey);
    expect(await refusal(forged)).toMatchObject({ status: 401, message: `token of issuer ${ISSUER} refused: invalid signature` });
  });

  it("revokes an external token by its jti in its workspace", async () => {
    const token = await idpToken({ org: "ws-acme-revoke", scope: "agents:read", jti: "0193aaaa-0000-7000-8000-000000000001" });
    expect((await refusal(token)).code).toBeUndefined();
    expectType((await server.client({ workspace: "ws-acme-revoke" }).request(RevokeTokenDocument, { input: { tokenId: "0193aaaa-0000-7000-8000-000000000001", reason: "left the company" } })).revokeToken, "RevokeTokenPayload");
    expect(await refusal(token)).toMatchObject({ status: 401, message: expect.stringContaining("(left the company)") });
  });

  it("still accepts the server's own tokens beside the provider's", async () => {
    expect((await server.client({ workspace: "ws-acme" }).request(ViewerDocument)).viewer.workspaceId).toBe("ws-acme");
    expect((await new GraphQLClient(server.url, await server.issuedToken({ workspace: "ws-acme" })).request(ViewerDocument)).viewer.workspaceId).toBe("ws-acme");
  });
});
