/**
 * The per-operation context, built by one factory for HTTP requests and graphql-ws operations
 * alike: the verified principal (`viewer`), the database, the configuration and a fresh
 * DataLoader cache.
 */
import type DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import type { Config } from "./config.ts";
import type { PrismaClient } from "./db/client.ts";
import type { SqlRunner } from "./db/sql.ts";
import type { Actor } from "./events/eventLog.ts";
import type { Connection, EventHub } from "./events/stream.ts";
import type { SystemStatusSource } from "./modules/system/status.ts";
import { describeRevocation, type RevocationList } from "./auth/revocations.ts";
import { bearerToken, connectionParamsToken, type Principal, TokenError } from "./auth/tokens.ts";
import type { SigningKeys } from "./auth/signingKeys.ts";
import type { TokenVerifier } from "./auth/verifier.ts";
import type { UserCodeAttempts } from "./modules/identity/device.ts";
import type { TaskFacts } from "./modules/tasks/facts.ts";

export interface Context {
  db: PrismaClient;
  /** The same database straight through the driver, for the hot path's single statements. */
  sql: SqlRunner;
  config: Config;
  /** The authenticated caller, or null when the request carried no token. */
  viewer: Principal | null;
  /** DataLoaders of this operation, keyed by name (see src/schema/loaders.ts). */
  loaders: Map<string, DataLoader<unknown, unknown>>;
  /** The event log's live side: bus, tailer and subscription limits (src/events). */
  events: EventHub;
  /** Tokens withdrawn before expiry, checked on every request and subscription event. */
  revocations: RevocationList;
  /** The WebSocket connection of a graphql-ws operation (absent over HTTP and SSE). */
  connection?: Connection;
  /** This server's status (version, uptime, migrations, replicas, tailer lag) for `systemStatus`. */
  status: SystemStatusSource;
  /** What the identity module needs beyond the database: the signing keys, and the user-code attempt guard. */
  identity: IdentityDeps;
  /** The tasks' unchanging facts (swarm, type), shared by every subscription of this process. */
  taskFacts: TaskFacts;
}

export interface IdentityDeps {
  keys: SigningKeys;
  deviceAttempts: UserCodeAttempts;
}

export interface ContextDeps {
  db: PrismaClient;
  sql: SqlRunner;
  config: Config;
  /** Checks any credential a request carries (JWT of any accepted issuer, API key). */
  verify: TokenVerifier;
  /** Makes sure the viewer's workspace row exists (workspaces come into being with their first token). */
  ensureWorkspace(workspaceId: string): Promise<void>;
  events: EventHub;
  revocations: RevocationList;
  status: SystemStatusSource;
  identity: IdentityDeps;
  taskFacts: TaskFacts;
}

/** Where a token can come from: an HTTP request, or graphql-ws `connection_init` params. */
export interface ContextSource {
  request?: Request;
  connectionParams?: Readonly<Record<string, unknown>>;
  connection?: Connection;
}

export function createContextFactory(deps: ContextDeps) {
  return async (source: ContextSource): Promise<Context> => {
    const viewer = await authenticate(deps, source);
    return { db: deps.db, sql: deps.sql, config: deps.config, viewer, loaders: new Map(), events: deps.events, revocations: deps.revocations, connection: source.connection, identity: deps.identity, status: deps.status, taskFacts: deps.taskFacts };
  };
}

/**
 * Verifies the token of a request or connection. No token → null (fields that need one answer
 * UNAUTHENTICATED); a bad, expired or revoked token → an UNAUTHENTICATED error for the whole operation.
 */
export async function authenticate(deps: ContextDeps, source: ContextSource): Promise<Principal | null> {
  try {
    const header = source.request?.headers.get("authorization");
    const token = header != null ? bearerToken(header) : connectionParamsToken(source.connectionParams);
    if (!token) return null;
    const principal = await deps.verify(token);
    const revoked = deps.revocations.check(principal);
    if (revoked) throw new TokenError(describeRevocation(revoked));
    await deps.ensureWorkspace(principal.workspaceId);
    return principal;
  } catch (error) {
    if (error instanceof TokenError) throw unauthenticated(error.message);
    throw error;
  }
}

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="swarmgraph"' } } },
  });
}

/** The actor for service calls. Only reachable behind an auth scope, so a viewer exists. */
export function actorOf(ctx: Context): Actor {
  if (!ctx.viewer) throw unauthenticated("this operation needs an access token");
  return { workspaceId: ctx.viewer.workspaceId, subject: ctx.viewer.subject };
}
