/**
 * Headless Chromium (Debian's `chromium` package) driven by playwright-core, for the browser
 * tests. Every request that is not to the test server is blocked and recorded, so a test can
 * assert that a page needs nothing from the internet (no CDN). Screenshots go to
 * test-results/screenshots (git-ignored).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { startTestServer, type StartOptions, type TestServer } from "./server.ts";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, "../../test-results/screenshots");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export interface TestBrowser {
  context: BrowserContext;
  /** Every http(s) or ws(s) URL a page tried to reach outside the allowed origin (all were blocked). */
  foreign: string[];
  /**
   * Errors thrown in pages, console errors, and failed responses for anything but the GraphQL
   * endpoint (whose 401s a page handles), for asserting a page ran cleanly.
   */
  pageErrors: string[];
  /** While true, new WebSocket connections to the server are refused (an outage the test controls). */
  holdWebSockets: boolean;
  newPage(): Promise<Page>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh profile, letting pages reach only `origin` (e.g.
 * `http://127.0.0.1:4321`, WebSockets on the same host and port included).
 */
export async function launchBrowser(origin: string): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 900 },
  });
  const allowed = new URL(origin);
  const ours = (url: string) => {
    const u = new URL(url);
    return u.host === allowed.host && ["http:", "ws:"].includes(u.protocol);
  };
  const browser: TestBrowser = {
    context,
    foreign: [],
    pageErrors: [],
    holdWebSockets: false,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (error) => browser.pageErrors.push(`pageerror: ${error.message}`));
      page.on("console", (message) => {
        // The browser logs every 4xx as "Failed to load resource"; the response handler judges those.
        if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) browser.pageErrors.push(`console: ${message.text()}`);
      });
      page.on("response", (response) => {
        if (response.status() >= 400 && new URL(response.url()).pathname !== "/graphql") browser.pageErrors.push(`HTTP ${response.status()}: ${response.url()}`);
      });
      return page;
    },
    async screenshot(page, name) {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
  await context.route("**/*", async (route) => {
    const url = route.request().url();
    if (ours(url)) return route.continue();
    browser.foreign.push(url);
    return route.abort("blockedbyclient");
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (!ours(ws.url())) {
      browser.foreign.push(ws.url());
      return ws.close({ code: 1008, reason: "blocked by the test" });
    }
    if (browser.holdWebSockets) return ws.close({ code: 1013, reason: "held by the test" });
    ws.connectToServer();
  });
  return browser;
}

/** The server a browser suite runs against, and the browser limited to it. */
export interface BrowserSuite {
  /** Replace it after `restart()`; the suite stops whichever server it holds last. */
  server: TestServer;
  browser: TestBrowser;
  /** `http://host:port` of the server. */
  readonly origin: string;
}

/**
 * Registers the hooks of a browser suite: a test server (started with `options`) and a browser
 * that may reach only it; after each test, no request left for elsewhere and no page failed;
 * `cleanup` runs once both are closed.
 */
export function browserSuite(options: StartOptions = {}, cleanup?: () => void): BrowserSuite {
  const suite = {
    get origin() {
      return suite.server.url.replace(/\/graphql$/, "");
    },
  } as BrowserSuite;
  beforeAll(async () => {
    suite.server = await startTestServer(options);
    suite.browser = await launchBrowser(suite.origin);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
    cleanup?.();
  });
  afterEach(() => {
    expect(suite.browser.foreign, "requests outside our server (a CDN?)").toEqual([]);
    expect(suite.browser.pageErrors).toEqual([]);
  });
  return suite;
}
