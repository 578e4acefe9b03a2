/**
 * Request ids: every HTTP request carries one, taken from the client's `x-request-id` (when it is
 * a sane token) or generated. It is echoed in the response header, added to every log line written
 * while the request is handled (through AsyncLocalStorage and pino's mixin), and to the
 * `extensions.requestId` of every error in the response, so a client can quote it in a bug report.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type http from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";

const requests = new AsyncLocalStorage<{ requestId: string }>();

/** A client-sent id, when it is 1–128 visible characters of [A-Za-z0-9._:-]; otherwise a new UUID. */
export function acceptRequestId(sent: string | string[] | undefined | null): string {
  const value = Array.isArray(sent) ? sent[0] : sent;
  return value && /^[A-Za-z0-9._:-]{1,128}$/.test(value) ? value : randomUUID();
}

/** The id of the request being handled on this async path, if any. */
export function currentRequestId(): string | undefined {
  return requests.getStore()?.requestId;
}

/**
 * Wraps a node:http handler so everything it does runs under the request's id; the id is also
 * written back onto the request's headers, where Yoga's plugins (and the access log) read it.
 */
export function withRequestIds(handler: http.RequestListener): http.RequestListener {
  return (req, res) => {
    const requestId = acceptRequestId(req.headers[REQUEST_ID_HEADER]);
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    requests.run({ requestId }, () => handler(req, res));
  };
}
