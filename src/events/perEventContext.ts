/**
 * Each delivered subscription event is resolved with a context of its own.
 *
 * graphql-js executes every event of a subscription with the one contextValue the subscription
 * started with, and every per-request cache hangs off that object: our DataLoaders
 * (`ctx.loaders`), plugin-prisma's model loaders and scope-auth's scope cache (both keyed by the
 * context object). A long-lived stream would then answer `swarm { taskSummary }` with the values
 * loaded for its first event. This plugin replaces the subscribe step with the same two steps
 * graphql-js takes (create the source stream, execute the selection per event) but gives each
 * event a shallow copy of the context with empty loaders, so nested fields show the state after
 * that event and scopes are evaluated again.
 */
import { createSourceEventStream, execute, type ExecutionArgs } from "graphql";
import { isAsyncIterable, mapAsyncIterator, type Plugin } from "graphql-yoga";

/** A copy of the operation's context with empty per-request caches. */
function freshContext(context: unknown): unknown {
  if (typeof context !== "object" || context === null) return context;
  return { ...context, loaders: new Map() };
}

export function usePerEventContext(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        return mapAsyncIterator(source, (payload: unknown) => execute({ ...args, rootValue: payload, contextValue: freshContext(args.contextValue) }));
      });
    },
  };
}
