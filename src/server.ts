/**
 * The server: graphql-yoga over node:http on `/graphql` (GraphiQL, SSE), graphql-ws on the same
 * path and port, `/health` and `/ready`, and a graceful stop. `createServer(config)` returns
 * `{ start(), stop() }` so tests run real servers on port 0.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { GraphQLError } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, maskError as yogaMaskError, useReadinessCheck } from "graphql-yoga";
import { WebSocketServer } from "ws";
import { resolveJwtSecret } from "./auth/secret.ts";
import { TokenError, verifyToken } from "./auth/tokens.ts";
import type { Config } from "./config.ts";
import { createContextFactory, type Context } from "./context.ts";
import { type Database, type DatabaseTarget, openDatabase } from "./db/client.ts";
import { applyMigrations, pendingMigrations } from "./db/migrations.ts";
import { DomainError } from "./errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { sweepExpiredLeases } from "./modules/tasks/service.ts";
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
  let sweeper: NodeJS.Timeout | undefined;

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
      const contextFactory = createContextFactory({ db: db.prisma, config, jwtSecret, ensureWorkspace });

      const yoga = createYoga<{ connectionParams?: Record<string, unknown> }, Context>({
        schema: getSchema(),
        graphqlEndpoint: "/graphql",
        healthCheckEndpoint: "/health",
        landingPage: false,
        graphiql: config.nodeEnv === "production" ? false : { title: "swarmgraph", defaultQuery: EXAMPLE_OPERATION, subscriptionsProtocol: "WS" },
        context: ({ request, connectionParams }) => contextFactory({ request, connectionParams }),
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
        ],
      });

      const httpServer = http.createServer(yoga);
      const wss = new WebSocketServer({ server: httpServer, path: "/graphql" });
      const wsServer = useServer<Record<string, unknown>, { request: http.IncomingMessage }>(
        {
          execute: (args) => (args.rootValue as { execute: typeof import("graphql").execute }).execute(args),
          subscribe: (args) => (args.rootValue as { subscribe: typeof import("graphql").subscribe }).subscribe(args),
          onConnect: (ctx) => {
            // A bad token closes the socket at connection_init (4401); no token is allowed, and
            // every field that needs one then answers UNAUTHENTICATED.
            const header = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
            if (typeof header !== "string") return true;
            try {
              verifyToken(jwtSecret, header.replace(/^Bearer\s+/i, ""));
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
        },
      };
      if (config.leaseSweepIntervalMs > 0) {
        const lease = { leaseSeconds: config.leaseSeconds, retryBaseSeconds: config.retryBaseSeconds };
        let sweeping = false;
        sweeper = setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          sweepExpiredLeases(db.prisma, lease)
            .then((swept) => swept > 0 && log.info({ swept }, "re-queued tasks with expired leases"))
            .catch((error: unknown) => log.error({ err: error }, "lease sweep failed"))
            .finally(() => (sweeping = false));
        }, config.leaseSweepIntervalMs);
        sweeper.unref();
      }
      log.info({ port, database: db.kind }, "swarmgraph listening");
      return { url: `http://${host}:${port}/graphql`, wsUrl: `ws://${host}:${port}/graphql`, port, db, jwtSecret, secretGenerated };
    },

    stop() {
      stopping ??= (async () => {
        if (!running) return;
        clearInterval(sweeper);
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
