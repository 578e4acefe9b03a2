/**
 * The input guard: a Pothos plugin that checks the arguments of every field (queries, mutations,
 * subscriptions alike) for what no input may contain — NUL characters, lone surrogates,
 * non-finite numbers, instants outside years 1–9999, nesting deeper than MAX_INPUT_DEPTH (see
 * `hostileValueIssues`) — before its resolver runs, so no such value reaches the database.
 *
 * It wraps innermost: scope-auth has already refused callers without the scope, relay has decoded
 * global ids, and an `InvalidInputError` thrown here becomes the mutation's typed
 * `InvalidInputError` (errors plugin) or, on a field without a result union, a top-level
 * BAD_USER_INPUT naming the field (src/server.ts).
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from "@pothos/core";
import type { GraphQLFieldResolver } from "graphql";
import type { Context } from "../context.ts";
import { InvalidInputError } from "../errors.ts";
import { hostileValueIssues } from "../validation.ts";

const pluginName = "inputGuard";

class InputGuardPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: GraphQLFieldResolver<unknown, Types["Context"], object>, fieldConfig: PothosOutputFieldConfig<Types>) {
    return Object.keys(fieldConfig.args).length === 0 ? resolver : guarded(resolver);
  }

  override wrapSubscribe(subscribe: GraphQLFieldResolver<unknown, Types["Context"], object> | undefined, fieldConfig: PothosOutputFieldConfig<Types>) {
    return !subscribe || Object.keys(fieldConfig.args).length === 0 ? subscribe : guarded(subscribe);
  }
}

function guarded<C>(resolver: GraphQLFieldResolver<unknown, C, object>): GraphQLFieldResolver<unknown, C, object> {
  return (parent, args, ctx, info) => {
    const issues = hostileValueIssues(args, "", (ctx as Context).config.maxInputDepth);
    if (issues.length > 0) throw new InvalidInputError(issues);
    return resolver(parent, args, ctx, info);
  };
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      inputGuard: InputGuardPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin(pluginName, InputGuardPlugin);

export default pluginName;
