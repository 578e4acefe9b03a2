/**
 * Assembles the GraphQL schema: imports every domain module (each adds its types to the builder)
 * and builds it. No side effects beyond building.
 */
import { type GraphQLSchema, specifiedDirectives } from "graphql";
import { GraphQLDeferDirective, GraphQLStreamDirective } from "@graphql-tools/utils";
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
import "../modules/artifacts/types.ts";
import "../modules/artifacts/queries.ts";
import "../modules/artifacts/mutations.ts";
import "../modules/artifacts/subscriptions.ts";
import "../modules/audit/types.ts";
import "../modules/audit/queries.ts";
import "../modules/tokens/types.ts";
import "../modules/tokens/queries.ts";
import "../modules/tokens/mutations.ts";
import "../modules/identity/types.ts";
import "../modules/identity/queries.ts";
import "../modules/identity/mutations.ts";
import "../modules/identity/deviceSchema.ts";
import "../modules/memory/types.ts";
import "../modules/memory/queries.ts";
import "../modules/memory/mutations.ts";
import "../modules/memory/subscriptions.ts";
import "../modules/context/types.ts";
import "../modules/context/queries.ts";
import "../modules/context/mutations.ts";
import "../modules/context/subscriptions.ts";
import "../modules/sessions/types.ts";
import "../modules/sessions/queries.ts";
import "../modules/sessions/mutations.ts";
import "../modules/sessions/subscriptions.ts";
import "../modules/webhooks/types.ts";
import "../modules/webhooks/queries.ts";
import "../modules/webhooks/mutations.ts";
import "../modules/webhooks/subscriptions.ts";

let schema: GraphQLSchema | undefined;

/** The schema, built once per process. */
export function getSchema(): GraphQLSchema {
  // @defer and @stream are in the printed schema, so clients' tooling (codegen, Relay) accepts them.
  schema ??= builder.toSchema({ sortSchema: true, directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective] });
  return schema;
}
