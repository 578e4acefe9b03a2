/** Read access to the audit trail. */
import { GraphQLError } from "graphql";
import { actorOf, type Context } from "../../context.ts";
import { anyScope, builder, connectionLimits, connectionOptions, everyScope } from "../../schema/builder.ts";
import { AUDIT_DOMAINS, auditWhere, DOMAIN_READ_SCOPE, isAuditDomain, readableDomains, readScopesOf } from "./service.ts";
import { AuditEntryRef } from "./types.ts";

const AuditTrailFilter = builder.inputType("AuditTrailFilter", {
  description: "Narrows the audit trail. All given conditions must hold.",
  fields: (t) => ({
    domain: t.stringList({
      required: false,
      description: "Any of these domains (agent, swarm, task, quota, finding, conflict, token, artifact, correlation); needs the read scope of each (token, artifact and correlation: admin). Omitted or empty: every domain your token can read.",
    }),
    entity: t.globalID({ required: false, description: "Only changes to this entity (any global id)." }),
    actor: t.string({ required: false, description: "Only changes made by this token subject (\"system\" for housekeeping)." }),
    from: t.field({ type: "DateTime", required: false, description: "Only changes at or after this instant." }),
    to: t.field({ type: "DateTime", required: false, description: "Only changes before this instant." }),
  }),
});

type FilterShape = { domain?: string[] | null; entity?: { typename: string; id: string } | null; actor?: string | null; from?: Date | null; to?: Date | null } | null | undefined;

/** The scopes a request needs: every requested domain's read scope, or any domain read scope when none is named. */
function requiredScopes(filter: FilterShape) {
  const named = readScopesOf(filter?.domain ?? []);
  if (named.length > 0) return everyScope(named);
  return anyScope([...new Set(Object.values(DOMAIN_READ_SCOPE))]);
}

function where(ctx: Context, filter: FilterShape) {
  const unknown = (filter?.domain ?? []).filter((d) => !isAuditDomain(d));
  if (unknown.length > 0) {
    throw new GraphQLError(`unknown audit domain ${unknown.map((d) => JSON.stringify(d)).join(", ")}; the domains are ${AUDIT_DOMAINS.join(", ")}`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  const named = (filter?.domain ?? []).filter(isAuditDomain);
  // Named domains were authorized by the field's authScopes; otherwise keep to what the token can read.
  const domains = named.length > 0 ? named : readableDomains(ctx.viewer?.scopes ?? new Set());
  return auditWhere(actorOf(ctx).workspaceId, { domains, entityId: filter?.entity?.id, actor: filter?.actor, from: filter?.from, to: filter?.to });
}

builder.queryFields((t) => ({
  auditTrail: t.prismaConnection(
    {
      type: AuditEntryRef,
      cursor: "id",
      description:
        "Every recorded state change of your workspace, oldest first: the event log, written in the same transaction as each change. Needs the read scope of every domain asked for (agent → agents:read, swarm → swarms:read, task → tasks:read, finding and conflict → findings:read); without a domain filter, lists the domains your token can read.",
      authScopes: (_root, { filter }) => requiredScopes(filter),
      maxSize: connectionLimits("bigint"),
      args: { filter: t.arg({ type: AuditTrailFilter, required: false, description: "Conditions the entries must meet." }) },
      // settle(): changes committed before this request are listed, however recent.
      resolve: async (query, _root, { filter }, ctx) => {
        await ctx.events.tailer.settle();
        return ctx.db.event.findMany({ ...query, where: where(ctx, filter), orderBy: { id: "asc" } });
      },
      totalCount: async (_root, { filter }, ctx) => {
        await ctx.events.tailer.settle();
        return ctx.db.event.count({ where: where(ctx, filter) });
      },
    },
    connectionOptions("A page of audit entries."),
    { description: "An audit entry in a page." },
  ),
}));

