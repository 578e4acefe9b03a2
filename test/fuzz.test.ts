/**
 * Fuzzing: every argument of every query and mutation, found by introspecting the running server
 * (a field added later is fuzzed without touching this file), gets hostile values — NUL, lone
 * surrogates, huge and deeply nested JSON, extreme numbers and instants, garbage ids and cursors.
 * Each answer must be a valid result or a typed error (an `extensions.code` that is not
 * INTERNAL_SERVER_ERROR, HTTP status below 500); afterwards the server must still answer.
 *
 * Seeded and bounded (FUZZ_SEED, FUZZ_RUNS per field) so a failure replays exactly; FUZZ_STATS=1
 * prints what each field answered (how far hostile values got).
 */
import fc from "fast-check";
import { buildClientSchema, getIntrospectionQuery, type GraphQLField, type GraphQLNamedType, type IntrospectionQuery, getNamedType, isCompositeType } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument, CreateSwarmDocument, CreateTaskDocument, HealthDocument, RegisterAgentDocument } from "./generated/graphql.ts";
import { expectType, withinStallBound } from "./support/client.ts";
import { argumentsOf, serializeVariables } from "./support/hostileValues.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const RUNS = Number(process.env.FUZZ_RUNS ?? 8);
/** Improbable enough that no generated revokeSubjectTokens input hits it. */
const SUBJECT = "fuzz-admin-5c1e9a";

let server: TestServer;
let token: string;
let fields: { operation: "query" | "mutation"; field: GraphQLField<unknown, unknown> }[];
const realIds: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ config: { leaseSweepIntervalMs: 0 } });
  token = server.token({ subject: SUBJECT });
  const api = server.client({ subject: SUBJECT });
  realIds.push(expectType((await api.request(RegisterAgentDocument, { input: { name: "fuzz", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent.id);
  const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "fuzz", objective: "o", topology: "MESH", maxAgents: 5 } })).createSwarm, "CreateSwarmPayload").swarm;
  realIds.push(swarm.id);
  realIds.push(expectType((await api.request(CreateTaskDocument, { input: { type: "fuzz", description: "d", swarmId: swarm.id } })).createTask, "CreateTaskPayload").task.id);

  const introspection = await api.raw<IntrospectionQuery, never>(getIntrospectionQuery());
  const schema = buildClientSchema(introspection.data!);
  fields = [
    ...Object.values(schema.getQueryType()!.getFields()).map((field) => ({ operation: "query" as const, field })),
    ...Object.values(schema.getMutationType()!.getFields()).map((field) => ({ operation: "mutation" as const, field })),
  ];
});
afterAll(() => server?.stop());

/** The smallest document that runs `field` with every argument bound to a variable. */
function documentFor(operation: string, field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(", ");
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(", ");
  const selection = isCompositeType(getNamedType(field.type) as GraphQLNamedType) ? " { __typename }" : "";
  return `${operation} Fuzz${variables ? `(${variables})` : ""} { ${field.name}${args ? `(${args})` : ""}${selection} }`;
}

async function send(query: string, variables: unknown): Promise<{ status: number; body: { errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${token}` },
    body: `{"query":${JSON.stringify(query)},"variables":${serializeVariables(variables)}}`,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

describe("fuzzing every argument of every query and mutation", () => {
  it("finds the fields to fuzz in the schema", () => {
    expect(fields.filter((f) => f.operation === "mutation").length).toBeGreaterThan(30);
    expect(fields.filter((f) => f.field.args.length > 0).length).toBeGreaterThan(50);
  });

  it("answers hostile arguments with a result or a typed error, never an internal one", async () => {
    const failures: string[] = [];
    const outcomes = new Map<string, string[]>();
    for (const { operation, field } of fields.filter((f) => f.field.args.length > 0)) {
      const query = documentFor(operation, field);
      await fc.assert(
        fc.asyncProperty(argumentsOf(field.args, realIds), async (variables) => {
          const { status, body } = await send(query, variables);
          outcomes.set(field.name, [...(outcomes.get(field.name) ?? []), body.errors?.length ? String(body.errors[0]!.extensions?.code) : JSON.stringify((body as { data?: Record<string, { __typename?: string } | null> }).data?.[field.name]?.__typename ?? "data")]);
          const untyped = (body.errors ?? []).filter((e) => !e.extensions?.code || e.extensions.code === "INTERNAL_SERVER_ERROR");
          if (status >= 500 || untyped.length > 0) {
            failures.push(`${field.name}: HTTP ${status} ${JSON.stringify(untyped.length ? untyped : body.errors).slice(0, 300)} for ${serializeVariables(variables).slice(0, 300)}`);
            return false;
          }
          return true;
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      ).catch(() => undefined);
    }
    if (process.env.FUZZ_STATS) for (const [name, list] of outcomes) console.log(name, JSON.stringify(Object.fromEntries([...new Set(list)].map((k) => [k, list.filter((x) => x === k).length]))));
    expect(failures).toEqual([]);
  });

  it("still answers afterwards: a health query and a harmless read, within a bound that only a stall would break", async () => {
    expect((await withinStallBound(server.client(null).request(HealthDocument), "health query after fuzzing")).scopes.length).toBeGreaterThan(0);
    const agents = await withinStallBound(server.client({ subject: "reader" }).request(AgentsDocument, { first: 5 }), "a read after fuzzing");
    expect(agents.agents.totalCount).toBeGreaterThanOrEqual(1);
  });
});
