/**
 * The operator dashboard's files, served by the server itself on its own port: `/` is
 * `dashboard/index.html`, `/dashboard/*` the rest of that folder, and `/vendor/*` the few
 * browser libraries it uses, straight from node_modules (no CDN, no build step). Only names
 * from a fixed list or a plain file name inside a known folder are served, so no request can
 * reach another file.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Plugin } from "graphql-yoga";

const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));
const FILE_NAME = /^[A-Za-z0-9][\w.-]*\.(?:html|js|css|svg|png)$/;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/**
 * The page may load and connect to its own origin only: a stray CDN link fails in every browser
 * instead of quietly depending on the internet. (uPlot and Preact set styles through the DOM.)
 */
const CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function moduleDir(specifier: string): string {
  return path.dirname(fileURLToPath(import.meta.resolve(specifier)));
}

/** A library file for the browser: `/vendor/<name>` → its file in node_modules. */
function vendorFiles(): Map<string, string> {
  const htm = moduleDir("htm/preact/standalone");
  const uplot = moduleDir("uplot");
  return new Map([
    // Preact with hooks and htm (JSX-like tagged templates) in one ES module.
    ["preact-htm.js", path.join(htm, "standalone.module.js")],
    ["uplot.js", path.join(uplot, "uPlot.esm.js")],
    ["uplot.css", path.join(uplot, "uPlot.min.css")],
  ]);
}

/** Where a request path is served from, or undefined when it is not ours. */
function resolveAsset(pathname: string, vendor: Map<string, string>, graphqlWsDir: string): string | undefined {
  if (pathname === "/" || pathname === "/index.html") return path.join(DASHBOARD_DIR, "index.html");
  // The device flow's verification page (RFC 8628 verification_uri).
  if (pathname === "/device") return path.join(DASHBOARD_DIR, "device.html");
  const [folder, name, file, ...rest] = pathname.slice(1).split("/");
  if (rest.length > 0 || !name) return undefined;
  if (file === undefined) {
    if (folder === "dashboard" && FILE_NAME.test(name)) return path.join(DASHBOARD_DIR, name);
    if (folder === "vendor") return vendor.get(name);
    return undefined;
  }
  // graphql-ws's browser client is two files: client.js imports a hashed chunk beside it.
  if (folder === "vendor" && name === "graphql-ws" && /^[\w-]+\.js$/.test(file)) return path.join(graphqlWsDir, file);
  return undefined;
}

/**
 * A Yoga plugin answering GET/HEAD for the dashboard and its libraries before GraphQL handling;
 * every other request goes on to Yoga untouched.
 */
export function useDashboard(): Plugin {
  const vendor = vendorFiles();
  const graphqlWsDir = moduleDir("graphql-ws/client");
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== "GET" && request.method !== "HEAD") return;
      const file = resolveAsset(url.pathname, vendor, graphqlWsDir);
      if (!file) return;
      let body: Buffer;
      try {
        body = await fs.readFile(file);
      } catch {
        endResponse(new fetchAPI.Response("not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } }));
        return;
      }
      const etag = `"${createHash("sha1").update(body).digest("base64url")}"`;
      const headers: Record<string, string> = {
        "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
        // Revalidated on every load: a new version shows at once, an unchanged file costs a 304.
        "cache-control": "no-cache",
        etag,
        "x-content-type-options": "nosniff",
      };
      if (file.endsWith(".html")) headers["content-security-policy"] = CONTENT_SECURITY_POLICY;
      if (request.headers.get("if-none-match") === etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      endResponse(new fetchAPI.Response(request.method === "HEAD" ? null : new Uint8Array(body), { status: 200, headers }));
    },
  };
}
