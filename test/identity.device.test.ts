/**
 * The device flow (RFC 8628): a device asks for codes, a person approves or denies with the user
 * code, and the device gets its token pushed by the `deviceAuthorization` subscription, or by
 * polling /oauth/token with a standard client library (openid-client). Denied and expired codes
 * end with clear errors, a code yields one token, wrong user codes are rate-limited, and a
 * device's refresh token rotates.
 */
import * as oauth from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApproveDeviceAuthorizationDocument,
  AuditTrailDocument,
  DenyDeviceAuthorizationDocument,
  DeviceAuthorizationDocument,
  DeviceAuthorizationRequestDocument,
  ViewerDocument,
} from "./generated/graphql.ts";
import { collect, expectType, GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  expires_in: number;
  interval: number;
  error?: string;
  error_description?: string;
}
const base = (s: TestServer) => s.url.replace(/\/graphql$/, "");
/** A device asking for codes, as RFC 8628 §3.1 says: a form POST. */
const startDevice = async (s: TestServer, clientId: string, scope?: string) => {
  const response = await fetch(`${base(s)}/oauth/device_authorization`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ client_id: clientId, ...(scope ? { scope } : {}) }) });
  return { status: response.status, body: (await response.json()) as DeviceAuthorizationResponse };
};
const poll = async (s: TestServer, clientId: string, deviceCode: string) => {
  const response = await fetch(`${base(s)}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: deviceCode, client_id: clientId }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
};
const publicClient = (s: TestServer, clientId: string) =>
  oauth.discovery(new URL(base(s)), clientId, undefined, oauth.None(), { execute: [oauth.allowInsecureRequests], algorithm: "oauth2" });

describe("device authorization", () => {
  it("pushes the token by subscription the moment an admin approves, once", async () => {
    const started = await startDevice(server, "worker-cli", "agents:write tasks:claim");
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ user_code: expect.stringMatching(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/), verification_uri: `${base(server)}/device`, expires_in: 600, interval: 5 });

    const ws = wsClient(server.wsUrl);
    try {
      const updates = collect(ws, DeviceAuthorizationDocument, { deviceCode: started.body.device_code });
      expect((await updates.waitFor(1))[0]!.deviceAuthorization).toMatchObject({ state: "PENDING", accessToken: null });

      const admin = server.client({ workspace: "ws-device", subject: "alice" });
      const shown = expectType((await admin.request(DeviceAuthorizationRequestDocument, { userCode: started.body.user_code.toLowerCase() })).deviceAuthorizationRequest, "DeviceAuthorizationRequest");
      expect(shown).toMatchObject({ clientId: "worker-cli", requestedScopes: ["agents:write", "tasks:claim"], status: "PENDING" });
      const approved = expectType((await admin.request(ApproveDeviceAuthorizationDocument, { input: { userCode: started.body.user_code } })).approveDeviceAuthorization, "ApproveDeviceAuthorizationPayload");
      expect(approved.request).toMatchObject({ status: "APPROVED", workspaceId: "ws-device", grantedScopes: ["agents:write", "tasks:claim"], decidedBy: "alice" });

      const [, pushed] = await updates.waitFor(2);
      expect(pushed!.deviceAuthorization).toMatchObject({ state: "APPROVED", workspaceId: "ws-device", scopes: ["agents:write", "tasks:claim"], expiresIn: server.config.accessTokenTtlSeconds });
      await updates.ended;
      const viewer = (await new GraphQLClient(server.url, pushed!.deviceAuthorization.accessToken!).request(ViewerDocument)).viewer;
      expect(viewer).toMatchObject({ subject: "device:worker-cli", workspaceId: "ws-device", scopes: ["agents:write", "tasks:claim"] });

      // Delivered once: a poll with the same code gets nothing more, and approving again is refused.
      expect(await poll(server, "worker-cli", started.body.device_code)).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: expect.stringContaining("already used") } });
      const again = (await admin.request(ApproveDeviceAuthorizationDocument, { input: { userCode: started.body.user_code } })).approveDeviceAuthorization;
      expect(expectType(again, "IllegalTransitionError").message).toContain("it is APPROVED");

      // The device's refresh token rotates, through a standard client as a public client.
      const config = await publicClient(server, "worker-cli");
      const refreshed = await oauth.refreshTokenGrant(config, pushed!.deviceAuthorization.refreshToken!);
      expect(refreshed.refresh_token).not.toBe(pushed!.deviceAuthorization.refreshToken);
      expect((await new GraphQLClient(server.url, refreshed.access_token).request(ViewerDocument)).viewer.subject).toBe("device:worker-cli");

      const audit = await admin.request(AuditTrailDocument, { first: 20, filter: { domain: ["identity"] } });
      expect(audit.auditTrail.edges.map((e) => e.node.action)).toEqual(expect.arrayContaining(["identity.deviceAuthorizationDecided", "identity.tokenIssued"]));
      const text = JSON.stringify(audit);
      for (const secret of [started.body.device_code, pushed!.deviceAuthorization.accessToken!, pushed!.deviceAuthorization.refreshToken!, refreshed.refresh_token!]) expect(text).not.toContain(secret);
    } finally {
      await ws.dispose();
    }
  });

  it("serves standard polling clients: pending, slow down, then the token after approval", async () => {
    const config = await publicClient(server, "poller");
    const response = await oauth.initiateDeviceAuthorization(config, { scope: "agents:read" });
    expect(await poll(server, "poller", response.device_code)).toMatchObject({ status: 400, body: { error: "authorization_pending" } });
    expect(await poll(server, "poller", response.device_code)).toMatchObject({ status: 400, body: { error: "slow_down" } });
    const approve = server.client({ workspace: "ws-device-poll" }).request(ApproveDeviceAuthorizationDocument, { input: { userCode: response.user_code } });
    expectType((await approve).approveDeviceAuthorization, "ApproveDeviceAuthorizationPayload");
    // openid-client waits `interval` (plus the slow_down increase) between polls, as the RFC says.
    const tokens = await oauth.pollDeviceAuthorizationGrant(config, response);
    expect((await new GraphQLClient(server.url, tokens.access_token).request(ViewerDocument)).viewer).toMatchObject({ subject: "device:poller", workspaceId: "ws-device-poll", scopes: ["agents:read"] });
  }, 40_000);

  it("ends a denied request with access_denied and DENIED, naming who denied it", async () => {
    const started = await startDevice(server, "suspicious-cli", "admin");
    const ws = wsClient(server.wsUrl);
    try {
      const updates = collect(ws, DeviceAuthorizationDocument, { deviceCode: started.body.device_code });
      await updates.waitFor(1);
      expectType((await server.client({ workspace: "ws-device", subject: "bob" }).request(DenyDeviceAuthorizationDocument, { input: { userCode: started.body.user_code } })).denyDeviceAuthorization, "DenyDeviceAuthorizationPayload");
      const [, denied] = await updates.waitFor(2);
      expect(denied!.deviceAuthorization).toMatchObject({ state: "DENIED", message: "the request was denied by bob", accessToken: null });
      expect(await poll(server, "suspicious-cli", started.body.device_code)).toMatchObject({ status: 400, body: { error: "access_denied", error_description: "the request was denied by bob" } });
    } finally {
      await ws.dispose();
    }
  });

  it("refuses scopes the approver does not hold or the device did not ask for, and unknown scopes at the start", async () => {
    const started = await startDevice(server, "cli", "agents:read tasks:write");
    const narrow = server.client({ workspace: "ws-device", scopes: ["admin"] });
    const outside = (await narrow.request(ApproveDeviceAuthorizationDocument, { input: { userCode: started.body.user_code, scopes: ["memory:write"] } })).approveDeviceAuthorization;
    expect(expectType(outside, "InvalidInputError").issues[0]).toMatchObject({ path: "input.scopes", message: expect.stringContaining("not asked for by the device") });
    expect(await startDevice(server, "cli", "agents:read root")).toMatchObject({ status: 400, body: { error: "invalid_scope", error_description: "unknown scope(s) root" } });
    expect(await startDevice(server, "bad client id!", undefined)).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("rate-limits wrong user codes per person: after five, even the right code is refused", async () => {
    const started = await startDevice(server, "cli", "agents:read");
    const guesser = server.client({ workspace: "ws-device-guess", subject: "mallory" });
    for (let i = 0; i < 5; i += 1) {
      const wrong = (await guesser.request(ApproveDeviceAuthorizationDocument, { input: { userCode: `BBBB-BBB${"BCDFG"[i]}` } })).approveDeviceAuthorization;
      expect(expectType(wrong, "NotFoundError").code).toBe("NOT_FOUND");
    }
    const limited = await guesser.raw(ApproveDeviceAuthorizationDocument, { input: { userCode: started.body.user_code } });
    expect(limited.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^too many wrong user codes \(5 within 15 minutes\); try again after /), extensions: { code: "RATE_LIMITED" } });
    // Another person is not affected, and the code is still pending for them.
    const other = (await server.client({ workspace: "ws-device-guess", subject: "alice" }).request(DeviceAuthorizationRequestDocument, { userCode: started.body.user_code })).deviceAuthorizationRequest;
    expect(expectType(other, "DeviceAuthorizationRequest").status).toBe("PENDING");
  });

  it("expires codes nobody decides: expired_token when polled, EXPIRED when subscribed", async () => {
    const quick = await startTestServer({ config: { deviceCodeTtlSeconds: 1 } });
    const ws = wsClient(quick.wsUrl);
    try {
      const started = await startDevice(quick, "late-cli", "agents:read");
      const updates = collect(ws, DeviceAuthorizationDocument, { deviceCode: started.body.device_code });
      const [, expired] = await updates.waitFor(2);
      expect(expired!.deviceAuthorization).toMatchObject({ state: "EXPIRED", message: expect.stringMatching(/^the device code expired at .*; start again$/) });
      expect(await poll(quick, "late-cli", started.body.device_code)).toMatchObject({ status: 400, body: { error: "expired_token" } });
      const late = (await quick.client({ workspace: "ws-late" }).request(ApproveDeviceAuthorizationDocument, { input: { userCode: started.body.user_code } })).approveDeviceAuthorization;
      expect(expectType(late, "NotFoundError").code).toBe("NOT_FOUND");
    } finally {
      await ws.dispose();
      await quick.stop();
    }
  });
});
