/**
 * The one SchemaBuilder: plugins, scalars, root types and shared conventions. Domain modules in
 * src/modules/* add their types to it; src/schema/index.ts assembles them.
 */
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import PrismaPlugin, { parsePrismaCursor } from "@pothos/plugin-prisma";
import RelayPlugin, { cursorToOffset } from "@pothos/plugin-relay";
import ScopeAuthPlugin, { type AuthFailure } from "@pothos/plugin-scope-auth";
import { GraphQLError, type GraphQLResolveInfo, isObjectType } from "graphql";
import { DateTimeResolver, JSONObjectResolver, JSONResolver } from "graphql-scalars";
import { grants, type Scope } from "../auth/scopes.ts";
import { InvalidInputError } from "../errors.ts";
import { hostileValueIssues } from "../validation.ts";
import { type Context, unauthenticated } from "../context.ts";
import type PrismaTypes from "../generated/pothos-prisma-types.ts";
import { getDatamodel } from "../generated/pothos-prisma-types.ts";
import InputGuardPlugin from "./inputGuard.ts";

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** Any valid token. */
    authenticated: boolean;
    /** The token grants this scope (or `admin`). */
    scope: Scope;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
    JSONObject: { Input: Record<string, unknown>; Output: Record<string, unknown> };
  };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // scope-auth wraps outermost, so auth failures stay top-level GraphQL errors; the input guard
  // innermost, so its InvalidInputError lands in result unions.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin, InputGuardPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      scope: (scope: Scope) => ctx.viewer !== null && grants(ctx.viewer.scopes, scope),
    }),
    unauthorizedError: (_parent, ctx, _info, result) =>
      ctx.viewer ? forbidden(missingScopes(result.failure)) : unauthenticated("this operation needs an access token: send Authorization: Bearer <token>"),
  },
  errors: {
    directResult: true,
    defaultTypes: [InvalidInputError],
    defaultUnionOptions: {
      name: ({ fieldName }) => `${capitalize(fieldName)}Result`,
      description: "The mutation's payload on success, or one of the typed errors it can return.",
    },
  },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === "production" ? null : "error",
    defaultConnectionSize: 20,
  },
  relay: {
    clientMutationId: "omit",
    cursorType: "String",
    edgesFieldOptions: { nullable: false, description: "The items of this page, each with its cursor." },
    nodeFieldOptions: { nullable: false, description: "The item." },
    cursorFieldOptions: { description: "Opaque cursor of this item: pass it as `after` or `before` to page from here." },
    pageInfoFieldOptions: { description: "Where this page sits in the whole list." },
    pageInfoTypeOptions: { description: "Paging information of a connection (Relay cursor connections)." },
    hasNextPageFieldOptions: { description: "Whether items follow this page." },
    hasPreviousPageFieldOptions: { description: "Whether items precede this page." },
    startCursorFieldOptions: { description: "Cursor of the first item of this page; null when the page is empty." },
    endCursorFieldOptions: { description: "Cursor of the last item of this page; null when the page is empty." },
    firstArgOptions: { description: "Return the first n items (at most MAX_PAGE_SIZE, default 20)." },
    lastArgOptions: { description: "Return the last n items (at most MAX_PAGE_SIZE)." },
    afterArgOptions: { description: "Return items after this cursor." },
    beforeArgOptions: { description: "Return items before this cursor." },
    nodeTypeOptions: { description: "An object with a global id, fetchable with `node(id:)`." },
    idFieldOptions: { description: "Global id: opaque, stable, and unique across all types." },
    nodeQueryOptions: {
      description: "Fetches any object by its global id; null when it does not exist in your workspace.",
      args: { id: { description: "A global id." } },
      resolve: (_root, { id }, _ctx, info, resolveNode) => {
        refuseUnknownTypes([id], info, "id");
        return resolveNode(id);
      },
    },
    nodesQueryOptions: {
      description: "Fetches several objects by global id, in order; null for each that does not exist in your workspace. At most MAX_NODE_IDS (default 100) ids per call.",
      args: { ids: { description: "Global ids (at most MAX_NODE_IDS)." } },
      resolve: (_root, { ids }, ctx, info, resolveNodes) => {
        if (ids.length > ctx.config.maxNodeIds) {
          throw new GraphQLError(`\`ids\` holds ${ids.length} ids; at most ${ctx.config.maxNodeIds} per call (MAX_NODE_IDS)`, { extensions: { code: "BAD_USER_INPUT", limit: ctx.config.maxNodeIds } });
        }
        refuseUnknownTypes(ids, info, "ids");
        return resolveNodes(ids);
      },
    },
  },
});

builder.addScalarType("DateTime", DateTimeResolver, { description: "An instant in time, as an RFC 3339 string with time zone (e.g. 2026-11-22T10:00:00.000Z)." });
builder.addScalarType("JSON", JSONResolver, { description: "Any JSON value." });
builder.addScalarType("JSONObject", JSONObjectResolver, { description: "A JSON object (string keys, any JSON values)." });

builder.queryType({ description: "Everything a client can read. Every field is confined to the workspace of the caller's token." });
builder.subscriptionType({
  description:
    "Live events from the event log. Every field takes an optional `after` cursor: it replays the logged events after it, then continues live, with no gap and no duplicate. Over graphql-ws (authenticate in connection_init) or GraphQL over SSE (Authorization header).",
});
builder.mutationType({ description: "Everything a client can change. Each mutation takes one `input` and returns a result union: its payload, or a typed error." });

export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function forbidden(scopes: string[]): GraphQLError {
  const named = scopes.length > 0 ? `this operation needs the scope ${scopes.join(" or ")}` : "your token does not allow this operation";
  return new GraphQLError(`${named}; ask for a token that grants it`, {
    extensions: { code: "FORBIDDEN", requiredScopes: scopes, http: { status: 403 } },
  });
}

/** The scopes whose absence made an auth check fail, for a message that names them. */
function missingScopes(failure: AuthFailure): string[] {
  if (failure.kind === "AuthScope" && failure.scope === "scope") return [String(failure.parameter)];
  if ("failures" in failure) return failure.failures.flatMap(missingScopes);
  return [];
}

/** An auth-scope map over our `scope` check, nested because a map holds each key once. */
export type ScopeMap = { scope: Scope; $all?: ScopeMap; $any?: ScopeMap };

/**
 * `authScopes` met only when the token grants every one of `scopes` (admin grants all). A refusal
 * names one scope that is missing.
 */
export function everyScope(scopes: readonly Scope[]): { $all: ScopeMap } {
  const chain = scopes.reduceRight<ScopeMap | undefined>((rest, scope) => ({ scope, ...(rest ? { $all: rest } : {}) }), undefined);
  if (!chain) throw new Error("everyScope needs at least one scope");
  return { $all: chain };
}

/** `authScopes` met when the token grants any of `scopes`. A refusal names them all. */
export function anyScope(scopes: readonly Scope[]): { $any: ScopeMap } {
  const chain = scopes.reduceRight<ScopeMap | undefined>((rest, scope) => ({ scope, ...(rest ? { $any: rest } : {}) }), undefined);
  if (!chain) throw new Error("anyScope needs at least one scope");
  return { $any: chain };
}

/**
 * `maxSize` of a connection field whose cursor column holds `cursor` values. Called before the
 * page is read, it refuses (BAD_USER_INPUT) page sizes above MAX_PAGE_SIZE rather than silently
 * truncating, and `after`/`before` cursors that are not cursors of such a list (another list's,
 * or hand-made ones holding NUL characters or numbers out of range), which the database would
 * otherwise answer with an internal error.
 */
export function connectionLimits(cursor: CursorKind) {
  return (args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null }, ctx: Context): number => {
    const max = ctx.config.maxPageSize;
    for (const [name, value] of [["first", args.first], ["last", args.last]] as const) {
      if (value != null && (value < 0 || value > max)) {
        throw new GraphQLError(`\`${name}\` must be between 0 and ${max}; got ${value}`, { extensions: { code: "BAD_USER_INPUT" } });
      }
    }
    for (const [name, value] of [["after", args.after], ["before", args.before]] as const) {
      if (value != null && !isCursorOf(cursor, value)) {
        throw new GraphQLError(`\`${name}\` is not a cursor of this list: pass the \`cursor\` of one of its edges`, { extensions: { code: "BAD_USER_INPUT" } });
      }
    }
    return max;
  };
}

/**
 * What a list's cursors encode: a string id (most tables), a bigint position (the event log),
 * a compound unique key of string and integer parts (e.g. a session's messages by
 * `sessionId_seq`), or an offset (lists resolved with `resolveOffsetConnection`).
 */
export type CursorKind = "string" | "bigint" | "compound" | "offset";

/** Connections over tables with string ids (all but the event log). */
export const pageSizeLimit = connectionLimits("string");
/** Connections paged by `resolveOffsetConnection`. */
export const offsetPageSizeLimit = connectionLimits("offset");
/** Connections whose Prisma cursor is a compound unique key. */
export const compoundPageSizeLimit = connectionLimits("compound");

const MAX_BIGINT_ID = 2n ** 63n - 1n;

function isCursorOf(kind: CursorKind, cursor: string): boolean {
  if (kind === "offset") {
    try {
      const offset = cursorToOffset(cursor);
      return Number.isSafeInteger(offset) && offset >= 0;
    } catch {
      return false;
    }
  }
  let value: unknown;
  try {
    value = parsePrismaCursor(cursor);
  } catch {
    return false;
  }
  if (kind === "bigint") return typeof value === "bigint" && value >= 0n && value <= MAX_BIGINT_ID;
  if (kind === "compound") return Array.isArray(value) && value.length > 0 && value.every(isCursorPart);
  return isStringCursor(value);
}

function isCursorPart(value: unknown): boolean {
  return (typeof value === "number" && Number.isSafeInteger(value) && Math.abs(value) <= 2 ** 31 - 1) || isStringCursor(value);
}

function isStringCursor(value: unknown): boolean {
  return typeof value === "string" && value.length <= 200 && hostileValueIssues(value, "", 1).length === 0;
}

/**
 * A global id naming a type that has no objects (never issued by this API) is malformed, not
 * merely unknown: BAD_USER_INPUT naming the argument.
 */
function refuseUnknownTypes(ids: readonly { typename: string }[], info: GraphQLResolveInfo, arg: string): void {
  const index = ids.findIndex(({ typename }) => {
    const type = info.schema.getType(typename);
    return !isObjectType(type) || !type.getInterfaces().some((i) => i.name === "Node");
  });
  if (index >= 0) {
    const path = arg === "id" ? arg : `${arg}.${index}`;
    throw new InvalidInputError([{ path, message: "is not a global id of this API (its type has no objects)" }]);
  }
}

/** The SchemaTypes of a builder, for helpers that take field builders. */
export type SchemaTypesOf<B> = B extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/**
 * Options for a prisma connection type: its description, and a described `totalCount` (the
 * field plugin-prisma adds for the `totalCount` option, redefined here only to document it).
 */
export function connectionOptions(description: string) {
  return {
    description,
    fields: (t: PothosSchemaTypes.ObjectFieldBuilder<SchemaTypesOf<typeof builder>, object>) => ({
      totalCount: t.int({
        description: "How many items match the filter, over all pages.",
        extensions: { pothosPrismaTotalCount: true },
        resolve: (parent) => (parent as { totalCount?: () => number | Promise<number> }).totalCount?.() as number,
      }),
    }),
  };
}

/**
 * `findUnique` of every prismaNode: a global id resolves only inside the viewer's workspace, so
 * another workspace's id behaves exactly like one that does not exist.
 */
export function inViewerWorkspace(id: string, ctx: Context): { id: string; workspaceId: string } {
  return { id, workspaceId: ctx.viewer?.workspaceId ?? "" };
}
