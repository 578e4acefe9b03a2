/**
 * One info line per GraphQL operation (name, duration, outcome, error codes) — over HTTP when the
 * response is ready, over graphql-ws when a query or mutation finished or a subscription started —
 * and the request id in the `extensions` of every error of an HTTP response.
 */
import { getOperationAST, type ExecutionResult } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import type { Logger } from "../logger.ts";
import { REQUEST_ID_HEADER } from "./requestId.ts";

interface Seen {
  started: number;
  operationName?: string;
  codes: Set<string>;
  errors: number;
}

export function useAccessLog(log: Logger): Plugin {
  const seen = new WeakMap<Request, Seen>();
  const addRequestId = (result: ExecutionResult, request: Request, entry: Seen | undefined) => {
    if (!result.errors?.length) return;
    const requestId = request.headers.get(REQUEST_ID_HEADER);
    for (const error of result.errors) {
      if (entry) {
        entry.errors += 1;
        const code = error.extensions?.code;
        if (typeof code === "string") entry.codes.add(code);
      }
      // GraphQLError.extensions is a frozen-typed but plain object: add the id in place.
      if (requestId) (error.extensions as Record<string, unknown>).requestId = requestId;
    }
  };
  /** graphql-ws operations run without an HTTP request: they are logged from execution. */
  const logWebSocket = (args: { document: Parameters<typeof getOperationAST>[0]; operationName?: string | null; contextValue: unknown }, started: number, result: unknown) => {
    if ((args.contextValue as { request?: unknown }).request) return;
    const errors = (result as ExecutionResult | undefined)?.errors ?? [];
    const codes = [...new Set(errors.map((e) => e.extensions?.code).filter((c): c is string => typeof c === "string"))];
    log.info(
      { transport: "websocket", operation: getOperationAST(args.document, args.operationName)?.name?.value ?? null, durationMs: Math.round((performance.now() - started) * 10) / 10, outcome: errors.length > 0 ? "error" : "ok", ...(codes.length > 0 ? { codes } : {}) },
      "graphql operation",
    );
  };
  return {
    onExecute({ args }) {
      const started = performance.now();
      return { onExecuteDone: ({ result }) => logWebSocket(args, started, isAsyncIterable(result) ? undefined : result) };
    },
    onSubscribe({ args }) {
      const started = performance.now();
      return { onSubscribeResult: ({ result }) => logWebSocket(args, started, isAsyncIterable(result) ? undefined : result) };
    },
    onRequest({ request }) {
      seen.set(request, { started: performance.now(), codes: new Set(), errors: 0 });
    },
    onParams({ params, request }) {
      const entry = seen.get(request);
      if (entry) entry.operationName = params.operationName ?? operationNameOf(params.query);
    },
    onResultProcess({ result, request }) {
      const entry = seen.get(request);
      if (isAsyncIterable(result)) return;
      for (const one of Array.isArray(result) ? result : [result]) addRequestId(one as ExecutionResult, request, entry);
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      if (!entry || !("operationName" in entry)) return;
      const outcome = response.status >= 400 || entry.errors > 0 ? "error" : "ok";
      log.info(
        { operation: entry.operationName ?? null, status: response.status, durationMs: Math.round((performance.now() - entry.started) * 10) / 10, outcome, ...(entry.codes.size > 0 ? { codes: [...entry.codes] } : {}) },
        "graphql operation",
      );
    },
  };
}

/** The name of the first operation of a document, without parsing it (for the log line only). */
function operationNameOf(query: string | undefined): string | undefined {
  return query?.match(/\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/)?.[1];
}
