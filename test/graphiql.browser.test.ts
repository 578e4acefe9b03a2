/**
 * GraphiQL as a new user meets it, in headless Chromium with every request outside the test
 * server blocked: it renders (favicon included) from our server alone, opens on our example
 * operations, and the token pasted under Headers authenticates a query, a mutation and a
 * subscription — over graphql-ws and over SSE.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { CreateTaskDocument } from "./generated/graphql.ts";
import { browserSuite } from "./support/browser.ts";

const STALL = { timeout: 30_000 };

const suite = browserSuite();

async function open(url: string): Promise<Page> {
  const page = await suite.browser.newPage();
  await page.goto(url);
  await page.locator(".graphiql-container .monaco-editor").first().waitFor(STALL);
  return page;
}

/**
 * Switches to the tab of operation `name` and waits until its editor shows it. The first click
 * after typing in an editor may only close Monaco's suggestion widget, so it clicks until the tab
 * is shown, as a person would.
 */
async function tab(page: Page, name: string) {
  await expect
    .poll(async () => {
      await page.locator(".graphiql-tab-button", { hasText: name }).click();
      return editorText(page);
    }, { ...STALL, interval: 500 })
    .toMatch(new RegExp(`(query|mutation|subscription) ${name} `));
}
/** What the visible query editor shows (Monaco renders visible lines only; ours fit). */
const editorText = (page: Page) => monacoText(page, ".graphiql-query-editor");
const resultText = (page: Page) => monacoText(page, ".graphiql-response");
/** Monaco draws spaces as no-break spaces. */
const monacoText = async (page: Page, editor: string) => (await page.locator(`${editor} .view-lines`).first().innerText()).replace(/\u00a0/g, " ");

/** Pastes headers into the Headers editor of the current tab, as a person would. */
async function pasteHeaders(page: Page, headers: Record<string, string>) {
  await page.locator('section.graphiql-editor-tool[aria-label="Headers"] .monaco-editor:visible').click();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(JSON.stringify(headers));
}

async function run(page: Page) {
  await page.locator(".graphiql-execute-button").click();
}

describe("GraphiQL", () => {
  it("renders offline on our example operations; the Headers token runs the query and the mutation", async () => {
    const page = await open(suite.server.url);
    expect(await page.title()).toBe("swarmgraph");
    expect(await page.locator('link[rel="icon"]').getAttribute("href")).toMatch(/^data:image\//);
    expect(await editorText(page)).toMatch(/Paste your token under "Headers"[\s\S]*query Overview/);
    expect(await page.locator(".graphiql-tab").allInnerTexts()).toEqual(["Overview", "CreateTask", "TaskEvents"]);

    const token = suite.server.token({ workspace: "ws-graphiql", subject: "newcomer" });
    await pasteHeaders(page, { Authorization: `Bearer ${token}` });
    await run(page);
    await expect.poll(() => resultText(page), STALL).toMatch(/"subject": "newcomer",\s*"workspaceId": "ws-graphiql"/);
    await suite.browser.screenshot(page, "graphiql");

    await tab(page, "CreateTask");
    await pasteHeaders(page, { Authorization: `Bearer ${token}` });
    await run(page);
    await expect.poll(() => resultText(page), STALL).toMatch(/"__typename": "CreateTaskPayload"[\s\S]*"status": "PENDING"/);
    // The token is not stored: it lives as long as the page.
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(token);
    await page.close();

    // Coming back (a new browser tab): the same tabs, on the one left active, not a blank editor.
    const again = await open(suite.server.url);
    expect(await again.locator(".graphiql-tab").allInnerTexts()).toEqual(["Overview", "CreateTask", "TaskEvents"]);
    expect(await editorText(again)).toMatch(/mutation CreateTask/);
    await again.close();
  });

  for (const transport of ["graphql-ws", "SSE"] as const) {
    it(`streams a subscription typed in it over ${transport}, authenticated by the Headers token`, async () => {
      const workspace = `ws-graphiql-${transport.toLowerCase()}`;
      const page = await open(transport === "SSE" ? `${suite.server.url}?subscriptions=sse` : suite.server.url);
      await tab(page, "TaskEvents");
      await pasteHeaders(page, { Authorization: `Bearer ${suite.server.token({ workspace })}` });
      await run(page);
      const description = `seen over ${transport}`;
      // Events are delivered from the moment the subscription is set up; retry until it is.
      await expect
        .poll(async () => {
          await suite.server.client({ workspace }).request(CreateTaskDocument, { input: { description, type: "graphiql" } });
          return resultText(page);
        }, { ...STALL, interval: 1_000 })
        .toContain(description);
      expect(await resultText(page)).toMatch(/"type": "task.created"/);
      if (transport === "graphql-ws") await suite.browser.screenshot(page, "graphiql-subscription");
      await page.close();
    });
  }
});
