/**
 * The server: graphql-yoga over node:http on `/graphql` (GraphiQL, SSE), graphql-ws on the same
 * path and port, `/health` and `/ready`, and a graceful stop. `createServer(config)` returns
 * `{ start(), stop() }` so tests run real servers on port 0.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type DocumentNode, GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type Plugin, useReadinessCheck } from "graphql-yoga";
import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { useOpenTelemetry } from "@envelop/opentelemetry";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import { WebSocketServer } from "ws";
import { RevocationList, revocationOfEvent } from "./auth/revocations.ts";
import { resolveJwtSecret } from "./auth/secret.ts";
import { externalIssuerCheck } from "./auth/externalIssuer.ts";
import { SigningKeys } from "./auth/signingKeys.ts";
import { connectionParamsToken, TokenError } from "./auth/tokens.ts";
import { createTokenVerifier } from "./auth/verifier.ts";
import type { Config } from "./config.ts";
import { createContextFactory, type Context } from "./context.ts";
import { createTaskFacts } from "./modules/tasks/facts.ts";
import { type Database, type DatabaseTarget, openDatabase } from "./db/client.ts";
import { applyMigrations, pendingMigrations } from "./db/migrations.ts";
import type { DatabaseFailedError } from "./db/pgliteGuard.ts";
import { maskError, useCodedRequestErrors, useNoSuggestions } from "./clientErrors.ts";
import { QuotaExceededError } from "./errors.ts";
import { useBodyLimit, useCostReport, useIntrospectionPolicy, useQueryLimits } from "./limits.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createEventBus } from "./events/bus.ts";
import { deleteEventsBefore } from "./events/eventLog.ts";
import { ACCESS_CLOSE, SubscriptionLimiter, type EventHub } from "./events/stream.ts";
import { createEventTailer, type NudgeTarget } from "./events/tailer.ts";
import { usePerEventContext } from "./events/perEventContext.ts";
import { healthThresholds, markUnresponsiveAgents } from "./modules/agents/service.ts";
import { deleteExpiredArtifactKeys } from "./modules/artifacts/service.ts";
import { forgetReplica, heartbeatReplica, openSubscription, registerReplica, REPLICA_HEARTBEAT_MS, sweepStaleReplicas } from "./modules/quotas/openSubscriptions.ts";
import { deleteExpiredIdempotencyKeys } from "./modules/tasks/creation.ts";
import { sweepExpiredLeases } from "./modules/tasks/service.ts";
import { sweepExpiredContext } from "./modules/context/service.ts";
import { sweepExpiredMemory } from "./modules/memory/service.ts";
import { sweepExpiredSessions } from "./modules/sessions/service.ts";
import { allRevocations } from "./modules/tokens/service.ts";
import { apiKeyCheck } from "./modules/identity/apiKeys.ts";
import { UserCodeAttempts } from "./modules/identity/device.ts";
import { createWebhookWorker } from "./modules/webhooks/delivery.ts";
import { getSchema } from "./schema/index.ts";
import { operationConnectionParams } from "./auth/operationToken.ts";
import { graphiqlOptions, renderOfflineGraphiQL } from "./web/graphiql.ts";
import { useDashboard } from "./web/static.ts";
import { useIdentityRoutes } from "./web/identityRoutes.ts";
import { createOAuthHandler } from "./web/oauth.ts";
import { useAccessLog } from "./ops/accessLog.ts";
import { useCompression } from "./ops/compression.ts";
import { createMetrics, metricsListener, useMetricsEndpoint } from "./ops/metrics.ts";
import { withRequestIds } from "./ops/requestId.ts";
import { createSubscriptionCloser } from "./ops/shutdown.ts";
import { tracingEnabled } from "./ops/tracing.ts";
import { loadTrustedDocuments, useTrustedDocuments } from "./ops/trustedDocuments.ts";
import { createSystemStatus } from "./modules/system/status.ts";

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
  /**
   * Called once the embedded database has failed for good, after the failure was logged (fatal)
   * and /ready turned 503; every statement is refused from then on. `swarmgraph serve` exits.
   */
  onDatabaseFailure?: (error: DatabaseFailedError) => void;
}

export interface RunningServer {
  /** `http://host:port/graphql` */
  url: string;
  /** Where Prometheus scrapes: `/metrics` on the API port, or on METRICS_PORT when set. */
  metricsUrl: string;
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
  /** The key pairs that sign the tokens the server issues (tests rotate them). */
  signingKeys: SigningKeys;
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
  let running: { http: http.Server; metricsHttp?: http.Server; wss: WebSocketServer; db: Database; endSubscriptions(): Promise<number>; dispose(): Promise<void> } | undefined;
  const timers: NodeJS.Timeout[] = [];

  return {
    async start() {
      const db = await openDatabase(options.database ?? databaseTarget(config), {
        onQuery: options.onQuery,
        onFailure: (error) => {
          log.fatal({ err: error.cause }, error.message);
          options.onDatabaseFailure?.(error);
        },
      });
      try {
        const applied = await applyMigrations(db.sql);
        if (applied.length > 0) log.info({ applied }, "applied migrations");
      } catch (error) {
        await db.close();
        throw error;
      }
      const { secret: jwtSecret, generated: secretGenerated } = resolveJwtSecret(config);
      const signingKeys = new SigningKeys(db.prisma, {
        secret: jwtSecret,
        alg: config.tokenSigningAlg,
        rotateAfterMs: config.signingKeyRotationDays * 86_400_000,
        maxTokenLifetimeMs: config.accessTokenTtlSeconds * 1000,
      });
      await signingKeys.start();
      const verify = createTokenVerifier({
        secret: jwtSecret,
        keys: signingKeys,
        checks: [apiKeyCheck(db.prisma, (error) => log.warn({ err: error }, "could not record an API key's last use")), externalIssuerCheck(config)].filter((c) => c !== undefined),
      });

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
      // This process, as the subscriptions quota counts it across replicas.
      const replicaId = await registerReplica(db.prisma);
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
        admit: async (viewer) => {
          try {
            const close = await openSubscription(db.prisma, db.sql, { workspaceId: viewer.workspaceId, subject: viewer.subject }, replicaId);
            return () => void close().catch((error: unknown) => log.warn({ err: error }, "could not record a closed subscription (swept with its replica)"));
          } catch (error) {
            if (!(error instanceof QuotaExceededError)) throw error;
            throw new GraphQLError(error.message, { extensions: { code: error.code, resource: error.resource, limit: error.limit, inUse: error.inUse } });
          }
        },
      };
      // Webhooks: delivered by every replica, each endpoint by one at a time (a lease).
      const webhooks = createWebhookWorker({ db: db.prisma, sql: db.sql, bus, config, log, replicaId, notify: () => tailer.notify() });
      const status = createSystemStatus({ sql: db.sql, kind: db.kind, tailerPosition: () => tailer.position });
      const contextFactory = createContextFactory({ db: db.prisma, sql: db.sql, config, verify, ensureWorkspace, events, revocations, status, identity: { keys: signingKeys, deviceAttempts: new UserCodeAttempts() }, taskFacts: createTaskFacts(db.prisma) });
      const trustedDocuments = loadTrustedDocuments(config.trustedDocumentManifests);
      const subscriptions = createSubscriptionCloser();
      let httpConnections = 0;
      let webSocketConnections = () => 0;
      const metrics = createMetrics(
        {
          sql: db.sql,
          bus,
          tailerPosition: () => tailer.position,
          connections: () => ({ http: httpConnections, websocket: webSocketConnections() }),
          openSubscriptions: () => events.limiter.total,
          pool: () => db.pool?.(),
        },
        { token: config.metricsToken, schema: getSchema() },
      );

      const documentCosts = new WeakMap<DocumentNode, number>();
      const yoga = createYoga<{ connectionParams?: Record<string, unknown>; socket?: { close(code: number, reason: string): void } }, Context>({
        schema: getSchema(),
        graphqlEndpoint: "/graphql",
        healthCheckEndpoint: "/health",
        landingPage: false,
        graphiql: config.nodeEnv === "production" ? false : graphiqlOptions,
        renderGraphiQL: renderOfflineGraphiQL,
        context: ({ request, connectionParams, socket }) =>
          contextFactory({ request, connectionParams, connection: socket ? { close: (code, reason) => socket.close(code, reason) } : undefined }),
        maskedErrors: { maskError },
        // The body limit is useBodyLimit's (MAX_REQUEST_BYTES, below). Yoga's own would pipe every
        // body through a TransformStream (a stream pipeline, an AbortController and a DOMException
        // per request: 5% of the server's CPU on the agent hot path) to count bytes that Node's
        // HTTP parser already holds to the declared Content-Length.
        maxRequestBodySize: false,
        // CORS_ORIGINS: listed origins (with credentials), * (any origin, no credentials), or none.
        cors: !config.corsOrigins
          ? false
          : config.corsOrigins.includes("*")
            ? { origin: "*", credentials: false }
            : { origin: config.corsOrigins, credentials: true },
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
          ...(config.metricsPort === undefined ? [useMetricsEndpoint(metrics)] : []),
          useCompression(),
          useAccessLog(log),
          ...metrics.plugins,
          subscriptions.plugin,
          ...(tracingEnabled() ? [useOpenTelemetry({ resolvers: false, variables: false, result: false })] : []),
          useTrustedDocuments(trustedDocuments, config.trustedDocuments),
          useDeferStream(),
          useDashboard(),
          useIdentityRoutes({ keys: signingKeys, oauth: createOAuthHandler({ db: db.prisma, keys: signingKeys, revocations, config, log }) }),
          useBodyLimit(config.maxRequestBytes),
          useQueryLimits(config, documentCosts),
          useCostReport(config.maxQueryCost, documentCosts),
          useIntrospectionPolicy(config.introspection),
          useCodedRequestErrors(),
          ...(config.nodeEnv === "production" ? [useNoSuggestions()] : []),
          useReadinessCheck({
            endpoint: "/ready",
            check: async ({ fetchAPI }) => {
              const failure = db.failure();
              if (failure) return new fetchAPI.Response(JSON.stringify({ ready: false, database: "failed", reason: failure.message }), { status: 503, headers: { "content-type": "application/json" } });
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
          usePerEventContext({ onExecution: metrics.countExecution }),
          ...(options.plugins ?? []),
        ],
      });

      const httpServer = http.createServer(withRequestIds(yoga));
      httpServer.on("connection", (socket) => {
        httpConnections++;
        socket.once("close", () => httpConnections--);
      });
      // Idle keep-alive sockets are closed by clients (undici: 4 s) before the server would close
      // them (Node's default 5 s races with a client reusing the socket: "other side closed").
      httpServer.keepAliveTimeout = 65_000;
      httpServer.headersTimeout = 66_000;
      // A message over the limit closes the socket with 1009 (message too big) before it is parsed.
      const wss = new WebSocketServer({ server: httpServer, path: "/graphql", maxPayload: config.maxWebSocketMessageBytes });
      webSocketConnections = () => wss.clients.size;
      const wsServer = useServer<Record<string, unknown>, { request: http.IncomingMessage; socket: import("ws").WebSocket }>(
        {
          execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
          subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
          onConnect: async (ctx) => {
            // The token rule is connectionParamsToken's. A bad, malformed or ambiguous token
            // closes the socket at connection_init (4401), a revoked one with 4403; no token is
            // allowed, and every field that needs one then answers UNAUTHENTICATED.
            try {
              const token = connectionParamsToken(ctx.connectionParams);
              if (token === undefined) return true;
              const principal = await verify(token);
              const socket = ctx.extra.socket;
              if (revocations.check(principal)) {
                socket.close(...ACCESS_CLOSE.revoked);
                return false;
              }
              // The connection ends when its token expires (4401) or is revoked (4403), idle or not.
              const expiry = atTime(principal.expiresAt, () => socket.close(...ACCESS_CLOSE.expired));
              const unwatch = revocations.watch(principal, () => socket.close(...ACCESS_CLOSE.revoked));
              socket.once("close", () => {
                expiry.cancel();
                unwatch();
              });
              return true;
            } catch (error) {
              if (error instanceof TokenError) {
                // A close reason holds at most 123 bytes.
                ctx.extra.socket.close(4401, `Unauthorized: ${error.message}`.slice(0, 120));
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
              connectionParams: operationConnectionParams(ctx.connectionParams, params.extensions),
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

      const listen = (server: http.Server, port: number) =>
        new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, config.host, () => resolve());
        });
      await listen(httpServer, config.port);
      let metricsHttp: http.Server | undefined;
      if (config.metricsPort !== undefined) {
        metricsHttp = http.createServer(metricsListener(metrics));
        await listen(metricsHttp, config.metricsPort);
      }
      const { port } = httpServer.address() as AddressInfo;
      webhooks.start();
      const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
      running = {
        http: httpServer,
        metricsHttp,
        wss,
        db,
        endSubscriptions: () => subscriptions.endAll(),
        dispose: async () => {
          metrics.stop();
          await wsServer.dispose();
          await yoga.dispose();
          await webhooks.stop();
          await tailer.stop();
          await forgetReplica(db.prisma, replicaId).catch((error: unknown) => log.warn({ err: error }, "could not deregister this replica (swept once stale)"));
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
        every(config.leaseSweepIntervalMs, "deleted expired memory entries, context items and sessions", async () =>
          (await sweepExpiredMemory(db.prisma)) + (await sweepExpiredContext(db.prisma)) + (await sweepExpiredSessions(db.prisma)),
        );
      }
      every(Math.min(config.signingKeyRotationDays * 8_640_000, 3_600_000), "rotated the token signing key", async () => ((await signingKeys.rotateIfDue()) ? 1 : 0));
      every(REPLICA_HEARTBEAT_MS, "heartbeat", () => heartbeatReplica(db.prisma, replicaId).then(() => 0));
      every(REPLICA_HEARTBEAT_MS, "swept subscriptions of replicas that stopped heartbeating", () => sweepStaleReplicas(db.prisma));
      const retentionMs = config.eventRetentionHours * 3_600_000;
      every(Math.min(retentionMs / 10, 600_000), "deleted events past retention", () => deleteEventsBefore(db.prisma, new Date(Date.now() - retentionMs)));
      every(Math.min((config.idempotencyKeyTtlHours * 3_600_000) / 10, 600_000), "forgot idempotency keys past retention", () => deleteExpiredIdempotencyKeys(db.prisma, config));
      every(Math.min((config.idempotencyKeyTtlHours * 3_600_000) / 10, 600_000), "forgot artifact idempotency keys past retention", () => deleteExpiredArtifactKeys(db.prisma, config));
      const metricsPort = metricsHttp ? (metricsHttp.address() as AddressInfo).port : port;
      log.info({ port, metricsPort, database: db.kind }, "swarmgraph listening");
      return { metricsUrl: `http://${host}:${metricsPort}/metrics`, url: `http://${host}:${port}/graphql`, wsUrl: `ws://${host}:${port}/graphql`, port, db, jwtSecret, secretGenerated, events, revocations, signingKeys };
    },

    stop() {
      stopping ??= (async () => {
        if (!running) return;
        for (const timer of timers) clearInterval(timer);
        const { http: httpServer, metricsHttp, db, dispose, endSubscriptions } = running;
        const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        metricsHttp?.close();
        metricsHttp?.closeAllConnections();
        // Open SSE streams and graphql-ws subscriptions end now with `complete`; clients resume
        // elsewhere with their cursor instead of waiting for SHUTDOWN_TIMEOUT_MS to cut them.
        const ended = await endSubscriptions();
        if (ended > 0) log.info({ ended }, "ended open subscriptions for shutdown");
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

/**
 * Runs `action` at `when`, even beyond setTimeout's 24.8-day limit (a long-lived token or API
 * key): the timer re-arms itself until the time has come.
 */
function atTime(when: Date, action: () => void): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const left = when.getTime() - Date.now();
    timer = left > 2 ** 31 - 1 ? setTimeout(arm, 2 ** 31 - 1) : setTimeout(action, Math.max(left, 0));
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}
