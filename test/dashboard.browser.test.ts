/**
 * The operator dashboard at `/`, in headless Chromium with every request outside the test server
 * blocked: sign-in with actionable errors, a swarm whose progress bar and event feed move while a
 * worker completes its tasks, conflicts resolved from the page, and a live feed that resumes after
 * a server restart with exactly the events missed meanwhile.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { startWorker } from "../src/worker/worker.ts";
import { AuditTrailDocument, ConflictDocument, CreateSwarmDocument, CreateTasksDocument, CreateTaskDocument, JoinSwarmDocument, PostFindingDocument, SetQuotaDocument } from "./generated/graphql.ts";
import { browserSuite } from "./support/browser.ts";
import { expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import type { TestServer } from "./support/server.ts";

const origin = (server: TestServer) => server.url.replace(/\/graphql$/, "");
/** Bounded waits: only to detect a stall, never to measure. */
const STALL = { timeout: 30_000 };

async function signIn(page: Page, server: TestServer, token: string) {
  await page.goto(`${origin(server)}/`);
  await page.fill("#token", token);
  await page.click("button[type=submit]");
}

/** The feed's event cursors, newest first, as the page shows them. */
const feedCursors = (page: Page) => page.locator("#feed li[data-cursor]").evaluateAll((items) => items.map((li) => li.getAttribute("data-cursor")!));

describe("the operator dashboard", () => {
  const suite = browserSuite();

  it("says what is wrong with a token a person pasted, and what to do", async () => {
    const { server, browser } = suite;
    const page = await browser.newPage();
    await signIn(page, server, "not-a-token");
    await expect.poll(() => page.locator(".signin .error").textContent(), STALL).toMatch(/did not accept this token.*npm run -s token/);
    await page.fill("#token", server.token({ ttl: -60 }));
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator(".signin .error").textContent(), STALL).toMatch(/token has expired.*Paste a new one/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it("shows a swarm whose progress bar, feed, tasks and throughput move as a worker completes its tasks; resolves a conflict", async () => {
    const { server, browser } = suite;
    const api = server.client();
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "Docs swarm", objective: "Write the user guide", topology: "HIERARCHICAL", maxAgents: 4 } })).createSwarm, "CreateSwarmPayload").swarm;
    const tasks = Array.from({ length: 6 }, (_, i) => ({ description: `guide chapter ${i + 1}`, type: "docs", swarmId: swarm.id }));
    expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
    await api.request(SetQuotaDocument, { resource: "tasks.running", limit: 8 });

    const page = await browser.newPage();
    const token = server.token({ subject: "operator" });
    await signIn(page, server, token);
    const card = page.locator('[data-swarm="Docs swarm"]');
    const bar = card.getByRole("progressbar");
    await expect.poll(() => bar.getAttribute("aria-valuenow"), STALL).toBe("0");
    await expect.poll(() => page.locator('#tasks [data-count="PENDING"]').textContent(), STALL).toBe("6");
    await expect.poll(() => page.locator("[data-status]").first().getAttribute("data-status"), STALL).toBe("live");
    // Kept for this tab's session only.
    expect(await page.evaluate(() => [sessionStorage.getItem("swarmgraph.token"), localStorage.length])).toEqual([token, 0]);

    const worker = await startWorker({ url: server.url, token: server.token({ subject: "worker-1", scopes: ["agents:write", "tasks:claim"] }), name: "worker-1", types: ["docs"], concurrency: 2 });
    try {
      expectType((await api.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: worker.agentId, role: "WORKER" })).joinSwarm, "JoinSwarmPayload");
      await expect.poll(() => bar.getAttribute("aria-valuenow"), STALL).toBe("100");
      await expect.poll(() => page.locator('#feed li[data-type="task.completed"]').count(), STALL).toBe(6);
      await expect.poll(() => page.locator('#tasks [data-count="COMPLETED"]').textContent(), STALL).toBe("6");
      await expect.poll(() => page.locator("#throughput .chart").getAttribute("data-completed"), STALL).toBe("6");
      await expect.poll(() => page.locator('#agents [data-agent="worker-1"]').textContent(), STALL).toMatch(/healthy/i);
      await expect.poll(() => card.textContent(), STALL).toMatch(/WORKER.*worker-1/);
      await expect.poll(() => page.locator('#quotas [data-resource="tasks.running"]').textContent(), STALL).toMatch(/0 \/ 8/);
    } finally {
      await worker.stop();
    }

    // A task's timeline: its attempt, progress and result.
    await page.locator('#tasks [data-task="guide chapter 1"]').click();
    await expect.poll(() => page.locator("#timeline").textContent(), STALL).toMatch(/worker-1: claimed.*COMPLETED.*task\.created.*task\.claimed.*task\.progress.*task\.completed/s);

    // Two findings that disagree: the conflict appears live, and is resolved from the page.
    const finding = async (position: string, confidence: number) =>
      expectType((await api.request(PostFindingDocument, { input: { subject: "chapter order", position, confidence, claim: `chapters in ${position} order` } })).postFinding, "PostFindingPayload");
    const first = await finding("alphabetical", 0.9);
    const second = await finding("chronological", 0.55);
    const conflictId = second.conflicts[0]!.id;
    const conflict = page.locator('[data-conflict="chapter order"]');
    await expect.poll(() => conflict.count(), STALL).toBe(1);
    await browser.screenshot(page, "dashboard");
    await conflict.getByRole("button", { name: "A holds" }).click();
    await expect.poll(() => conflict.locator(".error").textContent(), STALL).toMatch(/Say why/);
    await conflict.getByRole("textbox").fill("the index is alphabetical too");
    await conflict.getByRole("button", { name: "A holds" }).click();
    await expect.poll(() => conflict.count(), STALL).toBe(0);
    const resolved = await api.request(ConflictDocument, { id: conflictId });
    expect(resolved.conflict).toMatchObject({ status: "RESOLVED", winningFinding: { id: first.finding.id }, resolution: { notes: "the index is alphabetical too", resolvedBy: "operator" } });

    // Another tab starts signed out: the token lives in this tab's session only.
    const other = await browser.newPage();
    await other.goto(`${origin(server)}/`);
    await expect.poll(() => other.locator("#token").count(), STALL).toBe(1);
    await other.close();
    await page.close();
  });
});

describe("the dashboard across a server restart", () => {
  // PGlite must outlive the process on disk; PostgreSQL keeps the test database anyway.
  const dataDir = onPostgres ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-dashboard-"));
  const suite = browserSuite({ dataDir }, () => dataDir && fs.rmSync(dataDir, { recursive: true, force: true }));

  it("resumes its feed after the restart with exactly the events it missed: no gap, no duplicate", async () => {
    const { browser } = suite;
    let server = suite.server;
    const page = await browser.newPage();
    await signIn(page, server, server.token());
    const status = page.locator("header [data-status]");
    await expect.poll(() => status.getAttribute("data-status"), STALL).toBe("live");
    await server.client().request(CreateTaskDocument, { input: { description: "before the restart", type: "restart" } });
    await expect.poll(() => page.locator("#feed").textContent(), STALL).toContain("before the restart");

    // The server goes away; while the page cannot reconnect, the restarted server records events.
    browser.holdWebSockets = true;
    suite.server = server = await server.restart();
    await expect.poll(() => status.getAttribute("data-status"), STALL).toBe("reconnecting");
    const api = server.client();
    for (let i = 1; i <= 5; i++) await api.request(CreateTaskDocument, { input: { description: `during the outage ${i}`, type: "restart" } });
    expect(await page.locator("#feed").textContent()).not.toContain("during the outage");

    browser.holdWebSockets = false;
    await expect.poll(() => status.getAttribute("data-status"), STALL).toBe("live");
    await expect.poll(async () => (await page.locator("#feed").textContent())?.match(/during the outage \d/g)?.length, STALL).toBe(5);

    // The feed is the event log: every entry once, in order, none missing.
    const log = await api.request(AuditTrailDocument, { last: 100 });
    const expected = log.auditTrail.edges.map((e) => e.node.id).reverse();
    await expect.poll(() => feedCursors(page), STALL).toEqual(expected);
    await browser.screenshot(page, "dashboard-after-restart");
    await page.close();
  });
});
