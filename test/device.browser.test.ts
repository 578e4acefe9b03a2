/**
 * The device flow's verification page at /device, in headless Chromium with every request
 * outside the test server blocked: a person pastes an admin token, types the code a worker
 * printed, sees the client and scopes, approves, and the worker, which was waiting on its
 * subscription, gets its token and completes a task. A wrong code says so; a denial ends the
 * device's wait with DENIED.
 */
import { describe, expect, it } from "vitest";
import { startWorker } from "../src/worker/worker.ts";
import { CreateTasksDocument, DeviceAuthorizationDocument } from "./generated/graphql.ts";
import { browserSuite } from "./support/browser.ts";
import { collect, expectType, wsClient } from "./support/client.ts";

const STALL = { timeout: 30_000 };

describe("the device verification page", () => {
  const suite = browserSuite();

  it("lets a person approve the code a worker printed; the worker gets its token by subscription and works", async () => {
    const { server, browser } = suite;
    let prompted!: (prompt: { userCode: string; verificationUriComplete: string }) => void;
    const prompt = new Promise<{ userCode: string; verificationUriComplete: string }>((resolve) => (prompted = resolve));
    const starting = startWorker({ url: server.url, login: { kind: "device", clientId: "build-agent-3", scope: "agents:write tasks:claim", onPrompt: prompted }, name: "build-agent-3", types: ["page-job"] });
    const { userCode, verificationUriComplete } = await prompt;

    const page = await browser.newPage();
    await page.goto(verificationUriComplete);
    expect(await page.inputValue("#user-code")).toBe(userCode);
    await page.fill("#token", server.token({ workspace: "ws-page", subject: "carol" }));
    await page.click("#lookup");
    await expect.poll(() => page.locator("#client").textContent(), STALL).toBe("build-agent-3");
    expect(await page.locator("#scopes").textContent()).toBe("agents:write, tasks:claim");
    await browser.screenshot(page, "device-request");
    await page.click("#approve");
    await expect.poll(() => page.locator("#result").textContent(), STALL).toMatch(/^Approved: build-agent-3 gets a token for workspace ws-page with agents:write, tasks:claim/);

    const worker = await starting;
    try {
      expectType((await server.client({ workspace: "ws-page" }).request(CreateTasksDocument, { input: { tasks: [{ description: "from the page", type: "page-job" }] } })).createTasks, "CreateTasksPayload");
      await expect.poll(() => worker.completed, STALL).toBe(1);
    } finally {
      await worker.stop();
    }
    expect(browser.foreign).toEqual([]);
    await page.close();
  });

  it("says when a code is wrong, and a denial ends the device's wait with DENIED", async () => {
    const { server, browser, origin } = suite;
    const started = (await (await fetch(`${origin}/oauth/device_authorization`, { method: "POST", body: new URLSearchParams({ client_id: "unknown-laptop", scope: "admin" }) })).json()) as { device_code: string; user_code: string };
    const ws = wsClient(server.wsUrl);
    try {
      const updates = collect(ws, DeviceAuthorizationDocument, { deviceCode: started.device_code });
      await updates.waitFor(1);
      const page = await browser.newPage();
      await page.goto(`${origin}/device`);
      await page.fill("#token", server.token({ workspace: "ws-page", subject: "dave" }));
      await page.fill("#user-code", "BBBB-BBBB");
      await page.click("#lookup");
      await expect.poll(() => page.locator("#error").textContent(), STALL).toMatch(/was not found.*check the code/);
      await page.fill("#user-code", started.user_code);
      await page.click("#lookup");
      await expect.poll(() => page.locator("#client").textContent(), STALL).toBe("unknown-laptop");
      await page.click("#deny");
      await expect.poll(() => page.locator("#result").textContent(), STALL).toBe("Denied: unknown-laptop gets no token.");
      const [, denied] = await updates.waitFor(2);
      expect(denied!.deviceAuthorization).toMatchObject({ state: "DENIED", message: "the request was denied by dave" });
      await page.close();
    } finally {
      await ws.dispose();
    }
  });
});
