/**
 * A graphql-ws operation may carry its own token. GraphiQL (like every client built on
 * @graphql-tools/url-loader) sends an empty `connection_init` payload and puts the Headers tab's
 * headers into each subscribe message as `extensions.headers`; a connection opened without a
 * token then authenticates operation by operation, as HTTP requests do.
 */

const isAuthorization = ([name]: [string, unknown]) => name.toLowerCase() === "authorization";

/**
 * The connection params an operation's context is built from: the connection's own, with the
 * operation's `Authorization` entries (any letter case) in place of the connection's when it
 * carries any — the more specific credential wins, as a request's header would over a session's.
 * The token rule itself (one value, "Bearer <token>") stays `connectionParamsToken`'s.
 */
export function operationConnectionParams(connectionParams: Readonly<Record<string, unknown>> | undefined, extensions: unknown): Readonly<Record<string, unknown>> | undefined {
  const headers = isRecord(extensions) && isRecord(extensions.headers) ? extensions.headers : {};
  const own = Object.entries(headers).filter(isAuthorization);
  if (own.length === 0) return connectionParams;
  const rest = Object.entries(connectionParams ?? {}).filter((entry) => !isAuthorization(entry));
  return Object.fromEntries([...rest, ...own]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
