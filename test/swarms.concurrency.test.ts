/**
 * The maxAgents race: many agents join one swarm at the same moment over HTTP; exactly maxAgents
 * of them get in, on whichever database the harness provides (PGlite, or PostgreSQL with
 * TEST_DATABASE_URL, where the joins really run on parallel connections).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateSwarmDocument, JoinSwarmDocument, RegisterAgentDocument, SwarmDocument } from "./generated/graphql.ts";
import { expectType, type GraphQLClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const MAX_AGENTS = 5;
const CONTENDERS = 40;
const ROUNDS = 3;

let server: TestServer;
let client: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  client = server.client({ scopes: ["agents:write", "swarms:write"] });
});
afterAll(() => server?.stop());

describe(`maxAgents under ${CONTENDERS} concurrent joins (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`admits exactly ${MAX_AGENTS} of ${CONTENDERS} simultaneous joins (round ${round})`, async () => {
      const swarm = expectType(
        (await client.request(CreateSwarmDocument, { input: { name: `race-${round}`, objective: "race", topology: "MESH", maxAgents: MAX_AGENTS } })).createSwarm,
        "CreateSwarmPayload",
      ).swarm;
      const agents = await Promise.all(
        Array.from({ length: CONTENDERS }, async (_, i) =>
          expectType((await client.request(RegisterAgentDocument, { input: { name: `racer-${round}-${i}`, type: "coder" } })).registerAgent, "RegisterAgentPayload").agent,
        ),
      );

      const results = await Promise.all(agents.map((agent) => client.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: agent.id, role: "WORKER" })));
      const outcomes = results.map((r) => r.joinSwarm);
      const byType = new Map<string, number>();
      for (const outcome of outcomes) byType.set(outcome.__typename, (byType.get(outcome.__typename) ?? 0) + 1);
      expect(Object.fromEntries(byType)).toEqual({ JoinSwarmPayload: MAX_AGENTS, SwarmFullError: CONTENDERS - MAX_AGENTS });

      for (const outcome of outcomes) {
        if (outcome.__typename === "SwarmFullError") expect(outcome).toMatchObject({ swarmId: swarm.id, maxAgents: MAX_AGENTS });
      }
      const admitted = outcomes.flatMap((o) => (o.__typename === "JoinSwarmPayload" ? [o.member.agent.id] : []));
      expect(new Set(admitted).size).toBe(MAX_AGENTS);

      const stored = (await client.request(SwarmDocument, { id: swarm.id })).swarm;
      expect(stored?.members).toHaveLength(MAX_AGENTS);
      expect(stored?.members.map((m) => m.agent.id).sort()).toEqual([...admitted].sort());
      expect(stored?.agentSummary.total).toBe(MAX_AGENTS);

      // Full means full afterwards too.
      const late = expectType((await client.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: agents.find((a) => !admitted.includes(a.id))!.id })).joinSwarm, "SwarmFullError");
      expect(late.maxAgents).toBe(MAX_AGENTS);
    });
  }
});
