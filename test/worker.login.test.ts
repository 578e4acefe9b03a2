/**
 * The example worker signs in without a pre-minted token: with the device flow (it prints a user
 * code, an admin approves, the token arrives by subscription) or with a service account's client
 * credentials; it then renews its token before expiry, moving its subscription to a connection
 * with the new token, and keeps completing tasks.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { startWorker } from "../src/worker/worker.ts";
import { ApproveDeviceAuthorizationDocument, CreateServiceAccountDocument, CreateTasksDocument } from "./generated/graphql.ts";
import { expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  // 30 s tokens (the shortest allowed) so renewal happens within the test.
  server = await startTestServer({ config: { accessTokenTtlSeconds: 30 } });
});
afterAll(() => server?.stop());

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 600; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
};
const createTasks = async (workspace: string, type: string, n: number) =>
  expectType((await server.client({ workspace }).request(CreateTasksDocument, { input: { tasks: Array.from({ length: n }, (_, i) => ({ description: `job ${i}`, type })) } })).createTasks, "CreateTasksPayload");

it("logs in with the device flow: prints a user code, gets the token pushed once approved, completes a task", async () => {
  const logs: string[] = [];
  let prompted!: (code: string) => void;
  const userCode = new Promise<string>((resolve) => (prompted = resolve));
  const starting = startWorker({
    url: server.url,
    login: { kind: "device", clientId: "worker-device", scope: "agents:write tasks:claim", onPrompt: ({ userCode: code }) => prompted(code) },
    name: "worker-device",
    types: ["device-job"],
    log: (m) => logs.push(m),
  });
  const code = await userCode;
  expect(code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
  const approved = (await server.client({ workspace: "ws-worker-device", subject: "alice" }).request(ApproveDeviceAuthorizationDocument, { input: { userCode: code } })).approveDeviceAuthorization;
  expectType(approved, "ApproveDeviceAuthorizationPayload");
  const worker = await starting;
  try {
    expect(logs[0]).toMatch(/^signed in \(device flow\)/);
    await createTasks("ws-worker-device", "device-job", 2);
    await until(() => worker.completed === 2, "2 tasks completed by the device-approved worker");
  } finally {
    await worker.stop();
  }
});

it("logs in with client credentials and renews before expiry without losing its subscription", async () => {
  const workspace = "ws-worker-sa";
  const created = expectType(
    (await server.client({ workspace }).request(CreateServiceAccountDocument, { input: { name: "worker-sa", scopes: ["agents:write", "tasks:claim"] } })).createServiceAccount,
    "CreateServiceAccountPayload",
  );
  const logs: string[] = [];
  // Renew with 28 of the 30 s left: after about 2 s, again and again.
  const worker = await startWorker({
    url: server.url,
    login: { kind: "clientCredentials", clientId: created.serviceAccount.clientId, clientSecret: created.clientSecret },
    renewBeforeSeconds: 28,
    name: "worker-sa",
    types: ["sa-job"],
    log: (m) => logs.push(m),
  });
  try {
    await createTasks(workspace, "sa-job", 1);
    await until(() => worker.completed === 1, "the first task");
    await until(() => worker.renewals >= 2, "two renewals");
    // Work created after the renewals still arrives by the (moved) subscription.
    await createTasks(workspace, "sa-job", 3);
    await until(() => worker.completed === 4, "tasks after the renewals");
    expect(logs.filter((m) => m.startsWith("renewed the access token"))).toHaveLength(worker.renewals);
    expect(logs.some((m) => /expired|revoked|could not renew/.test(m))).toBe(false);
    // The old connection closed because the worker moved, never because a token expired.
    expect(await Promise.race([worker.ended, Promise.resolve("running")])).toBe("running");
  } finally {
    await worker.stop();
  }
});
