/**
 * The bench's HTTP client: node:http over keep-alive sockets, one per request in flight, reused. It
 * replaces fetch (undici), which cost about 4 ms of CPU per claim + complete cycle on the same
 * two cores as the server and PostgreSQL; graphile-worker, the peer, pays nothing for a client.
 */
import http from "node:http";
import type { HttpPost } from "../test/support/client.ts";

export function keepAlivePost(): HttpPost {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  return (url, headers, body) =>
    new Promise((resolve, reject) => {
      const request = http.request(url, { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        response.on("error", reject);
      });
      request.on("error", reject);
      request.end(body);
    });
}
