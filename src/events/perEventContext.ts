/**
 * How a subscription's events are resolved: each with a context of its own and, where the result
 * cannot differ between subscribers, once for all of them.
 *
 * A context per event. graphql-js executes every event of a subscription with the one
 * contextValue the subscription started with, and every per-request cache hangs off that object:
 * our DataLoaders (`ctx.loaders`), plugin-prisma's model loaders and scope-auth's scope cache
 * (both keyed by the context object). A long-lived stream would then answer
 * `swarm { taskSummary }` with the values loaded for its first event. This plugin replaces the
 * subscribe step with the same two steps graphql-js takes (create the source stream, execute the
 * selection per event) but gives each event a context of its own with empty loaders, so nested
 * fields show the state after that event and scopes are evaluated again.
 *
 * One execution per group. A dashboard's or a swarm's subscribers receive the same event with the
 * same operation; executing it once per subscriber (context, scope checks, argument coercion,
 * graphql-js) was most of the server's cost of a delivery. Subscriptions share an event's result
 * when all of these are equal:
 * - the event: the same object (the bus hands every live listener the same record; replays read
 *   their own rows, so they never share);
 * - the operation: the same document (Yoga's parser cache returns one object per query text),
 *   operation name and variables;
 * - the viewer's workspace and scopes;
 * and every field the operation selects is marked {@link sharedPerEvent}: its value depends on the
 * event, its arguments and the viewer's workspace and scopes only. Fields that read the database
 * "as it is now" (`task`, `agent`…) or depend on who asks (artifact visibility, leases) are not
 * marked, so an operation that selects one is executed per subscriber as before. Marking is
 * opt-in: a new field is unshared until someone vouches for it. A result with errors is never
 * handed to another subscriber.
 */
import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  getNamedType,
  getOperationAST,
  type GraphQLSchema,
  isInterfaceType,
  isLeafType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from "graphql";
import { isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";
import type { Principal } from "../auth/tokens.ts";

/** The field extension that marks a field as {@link sharedPerEvent}. */
const SHARED_PER_EVENT = "swarmgraphSharedPerEvent";

/**
 * Field options (spread into a Pothos field) vouching that the field's value, below a
 * subscription, depends on nothing but the event, the field's arguments and the viewer's
 * workspace and scopes — never on the database, the time or the viewer's identity.
 */
export const sharedPerEvent = { extensions: { [SHARED_PER_EVENT]: true } } as const;

/** A copy of the operation's context with empty per-request caches (reads fall through to the original). */
function freshContext(context: unknown): unknown {
  if (typeof context !== "object" || context === null) return context;
  return Object.create(context, { loaders: { value: new Map(), writable: true, enumerable: true } });
}

export interface PerEventOptions {
  /** Called once per event and subscription: whether its result came from another subscription's execution. */
  onExecution?(shared: boolean): void;
}

export function usePerEventContext(options: PerEventOptions = {}): Plugin {
  /** The results of shareable executions, by event object, then by group key; gone with the event. */
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  /** Per document: a number for group keys, and whether each of its operations selects only shared fields. */
  const documents = new WeakMap<DocumentNode, { id: number; shareable: Map<string, boolean> }>();
  let nextDocumentId = 0;

  /** The group key of a subscription, or undefined when its results may not be shared. */
  function groupKey(args: ExecutionArgs): string | undefined {
    const viewer = (args.contextValue as { viewer?: Principal | null } | undefined)?.viewer;
    if (!viewer) return undefined;
    let document = documents.get(args.document);
    if (!document) documents.set(args.document, (document = { id: nextDocumentId++, shareable: new Map() }));
    const operationName = args.operationName ?? "";
    let ok = document.shareable.get(operationName);
    if (ok === undefined) document.shareable.set(operationName, (ok = selectsOnlySharedFields(args.schema, args.document, args.operationName)));
    if (!ok) return undefined;
    return [document.id, operationName, JSON.stringify(args.variableValues ?? {}), viewer.workspaceId, [...viewer.scopes].sort().join(" ")].join("\u0000");
  }

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const own = (payload: unknown) => execute({ ...args, rootValue: payload, contextValue: freshContext(args.contextValue) });
        const key = groupKey(args);
        return mapAsyncIterator(source, async (payload: unknown) => {
          // Error items (a revoked token, a lost scope) are each stream's own objects: never shared.
          if (key === undefined || typeof payload !== "object" || payload === null || payload instanceof Error) {
            options.onExecution?.(false);
            return own(payload);
          }
          let byKey = results.get(payload);
          if (!byKey) results.set(payload, (byKey = new Map()));
          const first = byKey.get(key);
          if (!first) {
            const result = Promise.resolve(own(payload) as ExecutionResult | Promise<ExecutionResult>);
            byKey.set(key, result);
            options.onExecution?.(false);
            return result;
          }
          const result = await first;
          if (result.errors) {
            options.onExecution?.(false);
            return own(payload);
          }
          options.onExecution?.(true);
          return result;
        });
      });
    },
  };
}

/**
 * Whether every field the operation selects (below and including its subscription field) is
 * marked {@link sharedPerEvent}, and no directive but @skip and @include is used.
 */
function selectsOnlySharedFields(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): boolean {
  const operation = getOperationAST(document, operationName);
  const root = schema.getSubscriptionType();
  if (!operation || operation.operation !== "subscription" || !root) return false;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const plainDirectives = (node: { directives?: readonly { name: { value: string } }[] }) => (node.directives ?? []).every((d) => d.name.value === "skip" || d.name.value === "include");
  if (!plainDirectives(operation)) return false;

  const visit = (typeName: string, selectionSet: SelectionSetNode, seen: ReadonlySet<string>): boolean => {
    const type = schema.getType(typeName);
    if (!isObjectType(type) && !isInterfaceType(type)) return false;
    const fields = type.getFields();
    return selectionSet.selections.every((selection) => {
      if (!plainDirectives(selection)) return false;
      switch (selection.kind) {
        case Kind.FIELD: {
          if (selection.name.value === "__typename") return true;
          const field = fields[selection.name.value];
          if (!field || field.extensions[SHARED_PER_EVENT] !== true) return false;
          const named = getNamedType(field.type);
          if (isLeafType(named)) return true;
          return selection.selectionSet !== undefined && visit(named.name, selection.selectionSet, seen);
        }
        case Kind.INLINE_FRAGMENT:
          return visit(selection.typeCondition?.name.value ?? typeName, selection.selectionSet, seen);
        case Kind.FRAGMENT_SPREAD: {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || seen.has(fragment.name.value)) return false;
          return visit(fragment.typeCondition.name.value, fragment.selectionSet, new Set([...seen, fragment.name.value]));
        }
      }
    });
  };
  return visit(root.name, operation.selectionSet, new Set());
}
