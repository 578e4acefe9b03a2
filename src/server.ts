/**
 * The server: graphql-yoga over node:http on `/graphql` (GraphiQL, SSE), graphql-ws on the same
 * path and port, `/health` and `/ready`, and a graceful stop. `createServer(config)` returns
 * `{ start(), stop() }` so tests run real servers on port 0.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { type DocumentNode, GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, maskError as yogaMaskError, type Plugin, useReadinessCheck } from "graphql-yoga";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { RevocationList, revocationOfEvent } from "./auth/revocations.ts";
import { resolveJwtSecret } from "./auth/secret.ts";
import { TokenError, verifyToken } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { createContextFactory, type Context } from "./context.ts";
import { type Database, type DatabaseTarget, openDatabase } from "./db/client.ts";
import { applyMigrations, pendingMigrations } from "./db/migrations.ts";
import { DomainError, QuotaExceededError } from "./errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createEventBus } from "./events/bus.ts";
import { deleteEventsBefore } from "./events/eventLog.ts";
import { ACCESS_CLOSE, SubscriptionLimiter, type EventHub } from "./events/stream.ts";
import { createEventTailer, type NudgeTarget } from "./events/tailer.ts";
import { healthThresholds, markUnresponsiveAgents } from "./modules/agents/service.ts";
import { admitSubscription } from "./modules/quotas/service.ts";
import { deleteExpiredIdempotencyKeys } from "./modules/tasks/creation.ts";
import { sweepExpiredLeases } from "./modules/tasks/service.ts";
import { allRevocations } from "./modules/tokens/service.ts";
import { getSchema } from "./schema/index.ts";
import { EXAMPLE_OPERATION } from "./graphiqlExample.ts";

export interface ServerOptions {
  config: Config;
  /** Overrides the database the config names (tests pass `{ kind: "pglite", dataDir: "memory://" }`). */
  database?: DatabaseTarget;
  /** Receives every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  logger?: Logger;
  /** Creates this workspace at start if missing (embedded first start creates "default"). */
  bootstrapWorkspace?: string;
  /** Extra envelop plugins, run for HTTP, SSE and WebSocket operations alike (tests observe operations with them). */
  plugins?: Plugin[];
}

export interface RunningServer {
  /** `http://host:port/graphql` */
  url: string;
  /** `ws://host:port/graphql` */
  wsUrl: string;
  port: number;
  db: Database;
  jwtSecret: string;
  /** True when this start generated the dev JWT secret (a first start). */
  secretGenerated: boolean;
  /** The live side of the event log (tests wait on `events.tailer.drain()`). */
  events: EventHub;
  /** Tokens withdrawn before expiry, as this replica knows them. */
  revocations: RevocationList;
}

export interface Server {
  start(): Promise<RunningServer>;
  /** Stops accepting, lets in-flight requests finish (up to SHUTDOWN_TIMEOUT_MS), closes sockets and the database. */
  stop(): Promise<void>;
}

export function databaseTarget(config: Config): DatabaseTarget {
  return config.databaseUrl ? { kind: "postgres", url: config.databaseUrl } : { kind: "pglite", dataDir: config.dataDir };
}

export function createServer(options: ServerOptions): Server {
  const { config } = options;
  const log = options.logger ?? createLogger(config.logLevel);
  let stopping: Promise<void> | undefined;
  let running: { http: http.Server; wss: WebSocketServer; db: Database; dispose(): Promise<void> } | undefined;
  const timers: NodeJS.Timeout[] = [];

  return {
    async start() {
      const db = await openDatabase(options.database ?? databaseTarget(config), { onQuery: options.onQuery });
      try {
        const applied = await applyMigrations(db.sql);
        if (applied.length > 0) log.info({ applied }, "applied migrations");
      } catch (error) {
        await db.close();
        throw error;
      }
      const { secret: jwtSecret, generated: secretGenerated } = resolveJwtSecret(config);

      const knownWorkspaces = new Set<string>();
      const ensureWorkspace = async (workspaceId: string) => {
        if (knownWorkspaces.has(workspaceId)) return;
        await db.prisma.workspace.createMany({ data: [{ id: workspaceId, name: workspaceId }], skipDuplicates: true });
        knownWorkspaces.add(workspaceId);
      };
      if (options.bootstrapWorkspace) await ensureWorkspace(options.bootstrapWorkspace);
      // Live events: every replica tails the shared log; Redis, when configured, only wakes the
      // others as soon as one of them commits (see src/events/tailer.ts).
      let redis: { publish: Redis; subscribe: Redis } | undefined;
      let nudges: NudgeTarget | undefined;
      if (config.redisUrl) {
        redis = { publish: new Redis(config.redisUrl, { lazyConnect: true }), subscribe: new Redis(config.redisUrl, { lazyConnect: true }) };
        for (const client of [redis.publish, redis.subscribe]) client.on("error", (error: Error) => log.warn({ err: error }, "redis error (events still arrive by polling)"));
        await Promise.all([redis.publish.connect(), redis.subscribe.connect()]).catch((error: unknown) => log.warn({ err: error }, "redis unreachable at start; retrying in the background"));
        nudges = createRedisEventTarget({ publishClient: redis.publish, subscribeClient: redis.subscribe }) as unknown as NudgeTarget;
      }
      const bus = createEventBus();
      const tailer = createEventTailer({ sql: db.sql, bus, pollIntervalMs: config.eventPollIntervalMs, log, nudges });
      // Revocations: what the tailer delivers from now on, then what was stored before (overlap is harmless).
      const revocations = new RevocationList();
      bus.listenAll((event) => {
        const revocation = revocationOfEvent(event);
        if (revocation) revocations.add(revocation);
      });
      await tailer.start();
      for (const revocation of await allRevocations(db.prisma)) revocations.add(revocation);
      const events: EventHub = {
        bus,
        tailer,
        limiter: new SubscriptionLimiter(config.maxSubscriptionsPerPrincipal),
        admit: async (viewer, open) => {
          try {
            await admitSubscription(db.prisma, { workspaceId: viewer.workspaceId, subject: viewer.subject }, open);
          } catch (error) {
            if (!(error instanceof QuotaExceededError)) throw error;
            throw new GraphQLError(error.message, { extensions: { code: error.code, resource: error.resource, limit: error.limit, inUse: error.inUse } });
          }
        },
      };
      const contextFactory = createContextFactory({ db: db.prisma, config, jwtSecret, ensureWorkspace, events, revocations });

      const yoga = createYoga<{ connectionParams?: Record<string, unknown>; socket?: { close(code: number, reason: string): void } }, Context>({
        schema: getSchema(),
        graphqlEndpoint: "/graphql",
        healthCheckEndpoint: "/health",
        landingPage: false,
        graphiql: config.nodeEnv === "production" ? false : { title: "swarmgraph", defaultQuery: EXAMPLE_OPERATION, subscriptionsProtocol: "WS" },
        context: ({ request, connectionParams, socket }) =>
          contextFactory({ request, connectionParams, connection: socket ? { close: (code, reason) => socket.close(code, reason) } : undefined }),
        maskedErrors: {
          maskError(error, message, isDev) {
            // A domain error that escaped a result union (e.g. from a query) keeps its code and message.
            const original = error instanceof GraphQLError ? error.originalError : error;
            if (original instanceof DomainError) {
              return new GraphQLError(original.message, { extensions: { code: original.code }, path: error instanceof GraphQLError ? error.path : undefined });
            }
            return yogaMaskError(error, message, isDev);
          },
        },
        logging: {
          debug: (...args) => log.debug(args.map(String).join(" ")),
          info: (...args) => log.info(args.map(String).join(" ")),
          warn: (...args) => log.warn(args.map(String).join(" ")),
          error: (...args) => log.error({ err: args.find((a) => a instanceof Error) }, args.filter((a) => !(a instanceof Error)).map(String).join(" ") || "error"),
        },
        plugins: [
          {
            // A committed mutation wakes the tailers at once (this replica's and, via Redis, the others').
            onExecute: ({ args }: { args: { document: DocumentNode } }) =>
              args.document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation === "mutation") ? { onExecuteDone: () => tailer.notify() } : undefined,
          } satisfies Plugin,
          EnvelopArmorPlugin({
            maxDepth: { n: config.maxQueryDepth },
            maxTokens: { n: config.maxQueryTokens },
            maxAliases: { n: 30 },
            maxDirectives: { n: 50 },
            costLimit: { maxCost: 20_000 },
            blockFieldSuggestion: { enabled: config.nodeEnv === "production" },
          }),
          useReadinessCheck({
            endpoint: "/ready",
            check: async ({ fetchAPI }) => {
              try {
                await db.sql.query("SELECT 1");
                const pending = await pendingMigrations(db.sql);
                if (pending.length === 0) return true;
                return new fetchAPI.Response(JSON.stringify({ ready: false, pendingMigrations: pending }), { status: 503, headers: { "content-type": "application/json" } });
              } catch {
                return new fetchAPI.Response(JSON.stringify({ ready: false, database: "unreachable" }), { status: 503, headers: { "content-type": "application/json" } });
              }
            },
          }),
          ...(options.plugins ?? []),
        ],
      });

      const httpServer = http.createServer(yoga);
      // Idle keep-alive sockets are closed by clients (undici: 4 s) before the server would close
      // them (Node's default 5 s races with a client reusing the socket: "other side closed").
      httpServer.keepAliveTimeout = 65_000;
      httpServer.headersTimeout = 66_000;
      const wss = new WebSocketServer({ server: httpServer, path: "/graphql" });
      const wsServer = useServer<Record<string, unknown>, { request: http.IncomingMessage; socket: import("ws").WebSocket }>(
        {
          execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
          subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
          onConnect: (ctx) => {
            // A bad token closes the socket at connection_init (4401), a revoked one with 4403; no
            // token is allowed, and every field that needs one then answers UNAUTHENTICATED.
            const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
            if (typeof header !== "string") return true;
            try {
              const principal = verifyToken(jwtSecret, header.replace(/^Bearer\s+/i, ""));
              const socket = ctx.extra.socket;
              if (revocations.check(principal)) {
                socket.close(...ACCESS_CLOSE.revoked);
                return false;
              }
              // The connection ends when its token expires (4401) or is revoked (4403), idle or not.
              const expiry = setTimeout(() => socket.close(...ACCESS_CLOSE.expired), Math.min(Math.max(principal.expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1));
              const unwatch = revocations.watch(principal, () => socket.close(...ACCESS_CLOSE.revoked));
              socket.once("close", () => {
                clearTimeout(expiry);
                unwatch();
              });
              return true;
            } catch (error) {
              if (error instanceof TokenError) {
                ctx.extra.socket.close(4401, "Unauthorized");
                return false;
              }
              throw error;
            }
          },
          onSubscribe: async (ctx, _id, params) => {
            const { schema, execute, subscribe, contextFactory: envelopedContext, parse, validate } = yoga.getEnveloped({
              ...ctx,
              req: ctx.extra.request,
              socket: ctx.extra.socket,
              params,
              connectionParams: ctx.connectionParams,
            });
            let document;
            try {
              document = parse(params.query);
            } catch (error) {
              return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
            }
            const errors = validate(schema, document);
            if (errors.length > 0) return errors;
            try {
              return {
                schema,
                operationName: params.operationName,
                document,
                variableValues: params.variables,
                contextValue: await envelopedContext(),
                rootValue: { execute, subscribe },
              };
            } catch (error) {
              return [error instanceof GraphQLError ? error : new GraphQLError("Unexpected error.")];
            }
          },
        },
        wss,
        10_000,
      );

      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => resolve());
      });
      const { port } = httpServer.address() as AddressInfo;
      const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
      running = {
        http: httpServer,
        wss,
        db,
        dispose: async () => {
          await wsServer.dispose();
          await yoga.dispose();
          await tailer.stop();
          if (redis) await Promise.all([redis.publish.quit(), redis.subscribe.quit()]).catch(() => undefined);
        },
      };
      /** Runs `job` every `ms` (never two at once), waking the tailers when it changed something. */
      const every = (ms: number, name: string, job: () => Promise<number>) => {
        let busy = false;
        const timer = setInterval(() => {
          if (busy) return;
          busy = true;
          job()
            .then((changed) => {
              if (changed > 0) {
                log.info({ changed }, name);
                tailer.notify();
              }
            })
            .catch((error: unknown) => log.error({ err: error }, `${name} failed`))
            .finally(() => (busy = false));
        }, ms);
        timer.unref();
        timers.push(timer);
      };
      if (config.leaseSweepIntervalMs > 0) {
        const lease = { leaseSeconds: config.leaseSeconds, retryBaseSeconds: config.retryBaseSeconds };
        every(config.leaseSweepIntervalMs, "re-queued tasks with expired leases", () => sweepExpiredLeases(db.prisma, lease));
        every(config.leaseSweepIntervalMs, "reported silent agents unresponsive", () => markUnresponsiveAgents(db.prisma, healthThresholds(config)));
      }
      const retentionMs = config.eventRetentionHours * 3_600_000;
      every(Math.min(retentionMs / 10, 600_000), "deleted events past retention", () => deleteEventsBefore(db.prisma, new Date(Date.now() - retentionMs)));
      every(Math.min((config.idempotencyKeyTtlHours * 3_600_000) / 10, 600_000), "forgot idempotency keys past retention", () => deleteExpiredIdempotencyKeys(db.prisma, config));
      log.info({ port, database: db.kind }, "swarmgraph listening");
      return { url: `http://${host}:${port}/graphql`, wsUrl: `ws://${host}:${port}/graphql`, port, db, jwtSecret, secretGenerated, events, revocations };
    },

    stop() {
      stopping ??= (async () => {
        if (!running) return;
        for (const timer of timers) clearInterval(timer);
        const { http: httpServer, db, dispose } = running;
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        await dispose();
        const timer = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
        await closed;
        clearTimeout(timer);
        await db.close();
        log.info("swarmgraph stopped");
      })();
      return stopping;
    },
  };
}
