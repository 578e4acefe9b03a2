/**
 * Production mode does not reveal the schema: introspection only with a valid token (or not at
 * all), and no "Did you mean …?" hints in any error — while development keeps both.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentsDocument } from "./generated/graphql.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const INTROSPECTION = "{ __schema { queryType { name } types { name } } }";
/** Documents and variables for which graphql-js would suggest names of the schema. */
const PROBES: { what: string; query: string | typeof AgentsDocument; variables?: Record<string, unknown> }[] = [
  { what: "an unknown field", query: "{ agentz { id } }" },
  { what: "an enum literal", query: "{ agents(first: 1, filter: { status: [IDLEE] }) { totalCount } }" },
  { what: "an unknown input field", query: "{ agents(first: 1, filter: { statuss: [IDLE] }) { totalCount } }" },
  { what: "an enum value in variables", query: AgentsDocument, variables: { first: 1, filter: { status: ["IDLEE"] } } },
  { what: "an unknown input field in variables", query: AgentsDocument, variables: { first: 1, filter: { statuss: ["IDLE"] } } },
];

describe("production", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ config: { nodeEnv: "production" } });
  });
  afterAll(() => server?.stop());

  it("refuses anonymous introspection with UNAUTHENTICATED and answers it for a valid token", async () => {
    for (const query of [INTROSPECTION, '{ __type(name: "Agent") { fields { name } } }']) {
      const anonymous = await server.client(null).raw(query);
      expect(anonymous.status).toBe(401);
      expect(anonymous.data ?? null).toBeNull();
      expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
    const withToken = await server.client({ scopes: ["agents:read"] }).raw<{ __schema: { types: unknown[] } }, never>(INTROSPECTION);
    expect(withToken.data?.__schema.types.length).toBeGreaterThan(50);
    expect((await server.client(null).raw<{ __typename: string }, never>("{ __typename }")).data?.__typename).toBe("Query");
  });

  it.each(PROBES)("sends no suggestion for $what", async ({ query, variables }) => {
    const result = await server.client().raw(query as never, variables as never);
    expect(result.errors?.length).toBeGreaterThan(0);
    for (const error of result.errors!) expect(error.message).not.toMatch(/Did you mean/);
  });
});

describe("INTROSPECTION=off", () => {
  it("refuses introspection even with a valid admin token", async () => {
    const server = await startTestServer({ config: { nodeEnv: "production", introspection: "off" } });
    try {
      const result = await server.client().raw(INTROSPECTION);
      expect(result.status).toBe(400);
      expect(result.errors?.[0]?.extensions?.code).toBe("INTROSPECTION_DISABLED");
    } finally {
      await server.stop();
    }
  });
});

describe("development", () => {
  it("keeps introspection open and suggestions on (what the production checks above would catch)", async () => {
    const server = await startTestServer();
    try {
      expect((await server.client(null).raw(INTROSPECTION)).status).toBe(200);
      for (const { query, variables } of PROBES) {
        const result = await server.client().raw(query as never, variables as never);
        expect(result.errors?.map((e) => e.message).join(" ")).toMatch(/Did you mean/);
      }
    } finally {
      await server.stop();
    }
  });
});
