/** Who am I: the caller's identity as the server sees it. */
import { SCOPES } from "../../auth/scopes.ts";
import type { Principal } from "../../auth/tokens.ts";
import { builder } from "../../schema/builder.ts";
import type { SystemStatus } from "./status.ts";

const Viewer = builder.objectRef<Principal>("Viewer").implement({
  description: "The caller, as identified by its access token.",
  fields: (t) => ({
    subject: t.exposeString("subject", { description: "The token's subject: who is calling." }),
    workspaceId: t.exposeString("workspaceId", { description: "The workspace every read and write is confined to." }),
    scopes: t.stringList({ description: "The scopes the token grants (admin implies all).", resolve: (p) => [...p.scopes].sort() }),
    expiresAt: t.field({ type: "DateTime", description: "When the token stops being accepted.", resolve: (p) => p.expiresAt }),
    issuedAt: t.field({ type: "DateTime", description: "When the token was issued (whole seconds).", resolve: (p) => p.issuedAt }),
    tokenId: t.string({ nullable: true, description: "The token's id (its jti claim): what an admin passes to revokeToken to withdraw it. Null for a token minted without one.", resolve: (p) => p.tokenId }),
  }),
});

const ScopeInfo = builder.objectRef<{ name: string; description: string }>("ScopeInfo").implement({
  description: "A scope a token can carry.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The scope, as written in tokens, e.g. agents:read." }),
    description: t.exposeString("description", { description: "What it allows." }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: Viewer,
    description: "The caller's identity: subject, workspace, scopes, and its token's id, issue time and expiry.",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.viewer!,
  }),
  scopes: t.field({
    type: [ScopeInfo],
    description: "Every scope a token can carry, with what it allows. Needs no token.",
    resolve: () => Object.entries(SCOPES).map(([name, description]) => ({ name, description })),
  }),
}));

const DatabaseKind = builder.enumType("DatabaseKind", {
  description: "Which database the server runs on.",
  values: {
    PGLITE: { description: "The embedded PGlite database (one process, DATA_DIR)." },
    POSTGRES: { description: "PostgreSQL (DATABASE_URL); any number of replicas." },
  } as const,
});

const SystemStatusRef = builder.objectRef<SystemStatus>("SystemStatus").implement({
  description: "The answering server's state: what operators read from status endpoints, in GraphQL. Uptime and tailer figures are this replica's; migrations and replicas are the deployment's.",
  fields: (t) => ({
    version: t.exposeString("version", { description: "The swarmgraph version this replica runs, e.g. 0.7.0." }),
    startedAt: t.field({ type: "DateTime", description: "When this replica started serving.", resolve: (s) => s.startedAt }),
    uptimeSeconds: t.exposeInt("uptimeSeconds", { description: "Whole seconds since startedAt." }),
    databaseKind: t.field({ type: DatabaseKind, description: "The database this replica runs on.", resolve: (s) => s.databaseKind }),
    migrationsApplied: t.exposeInt("migrationsApplied", { description: "How many of the migrations this version ships are applied to the database." }),
    latestMigration: t.exposeString("latestMigration", { nullable: true, description: "Name of the newest applied migration; null before the first." }),
    pendingMigrations: t.exposeStringList("pendingMigrations", { description: "Migrations this version ships that the database lacks (empty when ready); /ready answers 503 while any are pending." }),
    replicasSeen: t.exposeInt("replicasSeen", { description: "Server processes that heartbeated recently (this one included): the replicas sharing the database." }),
    eventLogHead: t.string({ description: "Position of the newest sequenced event (a cursor, as a decimal string).", resolve: (s) => s.eventLogHead.toString() }),
    tailerPosition: t.string({ description: "Position of the last event this replica delivered to its subscribers (a cursor, as a decimal string).", resolve: (s) => s.tailerPosition.toString() }),
    tailerLagEvents: t.exposeInt("tailerLagEvents", { description: "Committed events this replica has not yet delivered to subscribers (0 when caught up)." }),
  }),
});

builder.queryFields((t) => ({
  systemStatus: t.field({
    type: SystemStatusRef,
    description: "The server's version, uptime, database, migrations, replicas and event-tailer lag. Needs a token (any scope).",
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.status.read(),
  }),
}));
