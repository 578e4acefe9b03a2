/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every delivery,
 * verifies its Standard Webhooks signature the way the README tells receivers to (independently
 * of the server's code), and answers as the test says (a status, a hang, or a dropped connection).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  /** `webhook-id` */
  id: string;
  timestamp: number;
  /** The `v1,…` signatures of `webhook-signature`. */
  signatures: string[];
  body: { type: string; timestamp: string; data: { cursor: string; workspaceId: string; topic: string; entityId: string; actor: string | null; payload: Record<string, unknown> } };
  rawBody: string;
  /** The status this receiver answered; null when it hung or dropped the connection. */
  answered: number | null;
}

export type Answer = number | { status: number; headers?: Record<string, string>; body?: string } | "hang" | "drop";

/** The README's verification: does any `v1,` signature match HMAC-SHA256(key, "id.timestamp.body")? */
export function verifySignature(secret: string, id: string, timestamp: string, body: string, header: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(" ").some((part) => {
    const [version, signature] = part.split(",");
    if (version !== "v1" || !signature) return false;
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface Receiver {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  requests: Received[];
  /** Requests answered 2xx, in arrival order. */
  readonly accepted: Received[];
  /** Decides the answer to each request (default 200). */
  answer: (request: Received, index: number) => Answer;
  /** Resolves once `predicate` holds (checked after every request); rejects after `timeoutMs`. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  /** Stops listening (and drops hanging requests). */
  close(): Promise<void>;
  /** Listens again on the same port. */
  reopen(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const hanging = new Set<http.ServerResponse>();
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let server: http.Server;
  const receiver: Receiver = {
    url: "",
    port: 0,
    requests: [],
    get accepted() {
      return receiver.requests.filter((r) => r.answered !== null && r.answered >= 200 && r.answered < 300);
    },
    answer: () => 200,
    until(predicate, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        if (predicate()) return resolve();
        const check = () => {
          if (!predicate()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met within ${timeoutMs} ms; got ${receiver.requests.length} requests: ${receiver.requests.map((r) => `${r.id}→${r.answered}`).join(", ")}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async reopen() {
      server = listen();
      await new Promise<void>((resolve) => server.listen(receiver.port, "127.0.0.1", () => resolve()));
    },
  };
  const listen = () =>
    http.createServer((request, response) => {
      let raw = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (raw += chunk));
      request.on("end", () => {
        const received: Received = {
          id: String(request.headers["webhook-id"]),
          timestamp: Number(request.headers["webhook-timestamp"]),
          signatures: String(request.headers["webhook-signature"] ?? "").split(" "),
          body: JSON.parse(raw) as Received["body"],
          rawBody: raw,
          answered: null,
        };
        const index = receiver.requests.push(received) - 1;
        const answer = receiver.answer(received, index);
        if (answer === "hang") {
          hanging.add(response);
        } else if (answer === "drop") {
          request.socket.destroy();
        } else {
          const { status, headers, body } = typeof answer === "number" ? { status: answer, headers: {}, body: "" } : answer;
          received.answered = status;
          response.writeHead(status, { "content-type": "text/plain", ...headers }).end(body ?? "");
        }
        notify();
      });
    });
  server = listen();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}
