/**
 * Assembles the GraphQL schema: imports every domain module (each adds its types to the builder)
 * and builds it. No side effects beyond building.
 */
import type { GraphQLSchema } from "graphql";
import { builder } from "./builder.ts";
import "./errors.ts";
import "./events.ts";
import "../modules/system/queries.ts";
import "../modules/agents/types.ts";
import "../modules/agents/queries.ts";
import "../modules/agents/mutations.ts";
import "../modules/agents/subscriptions.ts";
import "../modules/swarms/types.ts";
import "../modules/swarms/queries.ts";
import "../modules/swarms/mutations.ts";
import "../modules/swarms/subscriptions.ts";
import "../modules/tasks/types.ts";
import "../modules/tasks/queries.ts";
import "../modules/tasks/mutations.ts";
import "../modules/tasks/subscriptions.ts";
import "../modules/quotas/types.ts";
import "../modules/quotas/queries.ts";
import "../modules/quotas/mutations.ts";
import "../modules/quotas/subscriptions.ts";
import "../modules/findings/types.ts";
import "../modules/findings/queries.ts";
import "../modules/findings/mutations.ts";
import "../modules/findings/subscriptions.ts";
import "../modules/audit/types.ts";
import "../modules/audit/queries.ts";
import "../modules/tokens/types.ts";
import "../modules/tokens/queries.ts";
import "../modules/tokens/mutations.ts";

let schema: GraphQLSchema | undefined;

/** The schema, built once per process. */
export function getSchema(): GraphQLSchema {
  schema ??= builder.toSchema({ sortSchema: true });
  return schema;
}
