/**
 * What one request may cost the server, enforced before anything runs: the body size, the shape
 * of the document (tokens, depth, aliases, directives, cost — graphql-armor), introspection, and
 * what error messages reveal in production. Every refusal is a GraphQL error with a stable
 * `extensions.code` and, over HTTP, status 400 (413 for a body too large), the same for HTTP, SSE
 * and graphql-ws (where it is an `error` message for that one operation, never a closed socket).
 */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { type DocumentNode, GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, validate } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Config } from "./config.ts";
import type { Context } from "./context.ts";

/** The codes of the document-shape limits, as clients see them in `extensions.code`. */
export const LIMIT_CODES = {
  depth: "QUERY_TOO_DEEP",
  cost: "QUERY_TOO_COMPLEX",
  aliases: "TOO_MANY_ALIASES",
  directives: "TOO_MANY_DIRECTIVES",
  tokens: "TOO_MANY_TOKENS",
} as const;

type Limits = Pick<Config, "maxQueryDepth" | "maxQueryTokens" | "maxQueryCost" | "maxQueryAliases" | "maxQueryDirectives">;

/** A refusal of the document as a whole: HTTP 400 (GraphQL-over-HTTP: the request is not executable). */
function limitError(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 }, ...extensions } });
}

/** graphql-armor's message without its misleading "Syntax Error: " prefix. */
const armorMessage = (error: GraphQLError) => error.message.replace(/^Syntax Error: /, "");

/**
 * graphql-armor with coded rejections. Validation rules report their error (rather than throw,
 * which graphql-ws answers by closing the whole socket with 4500); the token limit runs inside
 * the parser, where throwing is the only way to stop, and every transport answers a parse error
 * for its operation only. The estimated cost of each accepted document is kept for
 * {@link useCostReport}.
 */
export function useQueryLimits(limits: Limits, costs: WeakMap<DocumentNode, number>): Plugin {
  const report = (code: string, name: string, limit: number, extra?: (error: GraphQLError) => Record<string, unknown>) => ({
    propagateOnRejection: false,
    onReject: [
      (ctx: ValidationContext | null, error: GraphQLError) => {
        const coded = limitError(`${armorMessage(error)} (${name})`, code, { limit, ...extra?.(error) });
        if (!ctx) throw coded;
        ctx.reportError(coded);
      },
    ],
  });
  return EnvelopArmorPlugin({
    maxDepth: { n: limits.maxQueryDepth, ...report(LIMIT_CODES.depth, "MAX_QUERY_DEPTH", limits.maxQueryDepth) },
    maxTokens: { n: limits.maxQueryTokens, ...report(LIMIT_CODES.tokens, "MAX_QUERY_TOKENS", limits.maxQueryTokens), propagateOnRejection: true },
    maxAliases: { n: limits.maxQueryAliases, ...report(LIMIT_CODES.aliases, "MAX_QUERY_ALIASES", limits.maxQueryAliases) },
    maxDirectives: { n: limits.maxQueryDirectives, ...report(LIMIT_CODES.directives, "MAX_QUERY_DIRECTIVES", limits.maxQueryDirectives) },
    costLimit: {
      maxCost: limits.maxQueryCost,
      ...report(LIMIT_CODES.cost, "MAX_QUERY_COST", limits.maxQueryCost, (error) => ({
        cost: { requested: Math.ceil(Number(/found (\d+(?:\.\d+)?)/.exec(error.message)?.[1] ?? Number.NaN)), limit: limits.maxQueryCost },
      })),
      onAccept: [(ctx: ValidationContext | null, details: { n: number }) => ctx && costs.set(ctx.getDocument(), Math.ceil(details.n))],
    },
    // Suggestions are removed for every error in production by useNoSuggestions, not only here.
    blockFieldSuggestion: { enabled: false },
  }) as Plugin;
}

/** Adds `extensions.cost { requested, limit }` to every single result, as GitHub and Shopify do. */
export function useCostReport(limit: number, costs: WeakMap<DocumentNode, number>): Plugin {
  return {
    onExecute: ({ args }) => {
      const requested = costs.get(args.document);
      if (requested === undefined) return;
      return {
        onExecuteDone: ({ result, setResult }) => {
          if (Symbol.asyncIterator in result) return;
          setResult({ ...result, extensions: { ...result.extensions, cost: { requested, limit } } });
        },
      };
    },
  };
}

/**
 * Who may introspect: `on` anyone, `authenticated` only a caller with a valid token (an anonymous
 * caller gets UNAUTHENTICATED, 401), `off` nobody (400). GraphiQL and codegen need it in
 * development; in production the schema is no business of an anonymous caller.
 */
export function useIntrospectionPolicy(policy: Config["introspection"]): Plugin {
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      if (policy === "on") return;
      const viewer = (args.contextValue as Partial<Context>).viewer;
      if (policy === "authenticated" && viewer) return;
      if (validate(args.schema, args.document, [NoSchemaIntrospectionCustomRule]).length === 0) return;
      setResultAndStopExecution({
        errors: [
          policy === "off"
            ? limitError("introspection is disabled on this server (INTROSPECTION=off)", "INTROSPECTION_DISABLED")
            : new GraphQLError("introspection needs an access token on this server: send Authorization: Bearer <token>", {
                extensions: { code: "UNAUTHENTICATED", http: { status: 401 } },
              }),
        ],
      });
    },
  };
}

/**
 * Refuses a request body larger than `maxBytes` with 413: at once when Content-Length says so
 * (nothing is read), otherwise as soon as the streamed body passes the limit, so a large body is
 * never held in memory whole.
 */
export function useBodyLimit(maxBytes: number): Plugin {
  const tooLarge = (fetchAPI: { Response: typeof Response }) =>
    new fetchAPI.Response(
      JSON.stringify({ errors: [{ message: `the request body exceeds ${maxBytes} bytes (MAX_REQUEST_BYTES)`, extensions: { code: "PAYLOAD_TOO_LARGE" } }] }),
      { status: 413, headers: { "content-type": "application/json; charset=utf-8", connection: "close" } },
    );
  return {
    onRequestParse: ({ request, requestParser, setRequestParser, endResponse, fetchAPI }) => {
      const declared = request.headers.get("content-length");
      if (Number(declared ?? 0) > maxBytes) return endResponse(tooLarge(fetchAPI));
      // A declared length is enforced by Node's HTTP parser; only a chunked body needs counting.
      if (declared !== null || !request.body || !requestParser) return;
      setRequestParser(async (original) => {
        const body = await readAtMost(original.body!, maxBytes);
        if (body === null) return tooLarge(fetchAPI);
        return requestParser(new fetchAPI.Request(original.url, { method: original.method, headers: original.headers, body: new Uint8Array(body) }));
      });
    },
  };
}

/** The stream's bytes, or null (and the stream cancelled) once they pass `maxBytes`. */
async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
