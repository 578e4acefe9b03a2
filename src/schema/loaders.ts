/**
 * Per-operation DataLoaders for what plugin-prisma cannot batch (aggregates, counts). A module
 * declares a loader once with {@link defineLoader}; resolvers call `loader(ctx).load(key)`.
 */
import DataLoader from "dataloader";
import type { Context } from "../context.ts";

export function defineLoader<K, V>(name: string, batch: (ctx: Context, keys: readonly K[]) => Promise<V[]>) {
  return (ctx: Context): DataLoader<K, V> => {
    let loader = ctx.loaders.get(name) as DataLoader<K, V> | undefined;
    if (!loader) {
      loader = new DataLoader<K, V>((keys) => batch(ctx, keys));
      ctx.loaders.set(name, loader as DataLoader<unknown, unknown>);
    }
    return loader;
  };
}
