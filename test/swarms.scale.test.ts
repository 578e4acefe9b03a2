/**
 * Seed 001's scale and topology control: a swarm's desired composition (initialAgents, scaleSwarm)
 * against its live members, `swarm.scale_requested` delivered to swarmEvents, topology changes
 * with previous value and reason, and createSwarm creating its first tasks all or nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArchiveSwarmDocument,
  ChangeTopologyDocument,
  CreateSwarmWithWorkDocument,
  JoinSwarmDocument,
  PauseAgentDocument,
  RegisterAgentDocument,
  ScaleSwarmDocument,
  SwarmCompositionDocument,
  SwarmControlEventsDocument,
  SwarmsCompositionDocument,
  SwarmTasksDocument,
  TerminateAgentDocument,
  type CreateSwarmInput,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const WS = "scale-ws";

async function createSwarm(api: GraphQLClient, input: Partial<CreateSwarmInput>) {
  return (await api.request(CreateSwarmWithWorkDocument, { input: { objective: "o", topology: "MESH", name: "s", ...input } })).createSwarm;
}

async function agentOfType(api: GraphQLClient, name: string, type: string, swarmId?: string): Promise<string> {
  const id = expectType((await api.request(RegisterAgentDocument, { input: { name, type } })).registerAgent, "RegisterAgentPayload").agent.id;
  if (swarmId) expectType((await api.request(JoinSwarmDocument, { swarmId, agentId: id })).joinSwarm, "JoinSwarmPayload");
  return id;
}

describe("desired composition", () => {
  it("initialAgents and scaleSwarm set what is desired; composition shows desired, actual (live members of the type) and the gap", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(
      await createSwarm(api, { name: "composed", initialAgents: [{ agentType: "coder", count: 3 }, { agentType: "tester", count: 1 }] }),
      "CreateSwarmPayload",
    ).swarm;
    expect(swarm.composition).toEqual([
      { agentType: "coder", desired: 3, actual: 0, difference: 3 },
      { agentType: "tester", desired: 1, actual: 0, difference: 1 },
    ]);
    expect(swarm.compositionSatisfied).toBe(false);

    const coders = [await agentOfType(api, "c1", "coder", swarm.id), await agentOfType(api, "c2", "coder", swarm.id), await agentOfType(api, "c3", "coder", swarm.id)];
    await agentOfType(api, "r1", "reviewer", swarm.id);
    await agentOfType(api, "c-outside", "coder"); // not a member: does not count
    // A paused member is alive; a terminated one is not (and leaves the swarm).
    expectType((await api.request(PauseAgentDocument, { id: coders[0]! })).pauseAgent, "PauseAgentPayload");
    expectType((await api.request(TerminateAgentDocument, { id: coders[2]! })).terminateAgent, "TerminateAgentPayload");

    const now = (await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm!;
    expect(now.composition).toEqual([
      { agentType: "coder", desired: 3, actual: 2, difference: 1 },
      { agentType: "reviewer", desired: 0, actual: 1, difference: -1 },
      { agentType: "tester", desired: 1, actual: 0, difference: 1 },
    ]);

    const scaled = expectType(
      (
        await api.request(ScaleSwarmDocument, {
          input: {
            swarmId: swarm.id,
            agents: [
              { agentType: "coder", count: 2 },
              { agentType: "tester", count: 1, operation: "REMOVE" },
              { agentType: "reviewer", count: 1, operation: "ADD" },
            ],
            reason: "fewer tests",
          },
        })
      ).scaleSwarm,
      "ScaleSwarmPayload",
    ).swarm;
    expect(scaled.composition).toEqual([
      { agentType: "coder", desired: 2, actual: 2, difference: 0 },
      { agentType: "reviewer", desired: 1, actual: 1, difference: 0 },
    ]);
    expect(scaled.compositionSatisfied).toBe(true);

    // Batched for a list of swarms, each with its own numbers.
    const listed = (await api.request(SwarmsCompositionDocument)).swarms.edges.map((e) => e.node);
    expect(listed.find((s) => s.id === swarm.id)?.composition).toEqual(scaled.composition);
  });

  it("scale requests reach swarmEvents subscribers as swarm.scale_requested, from the log, with what changed and why", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(await createSwarm(api, { name: "evented", initialAgents: [{ agentType: "coder", count: 3 }] }), "CreateSwarmPayload").swarm;
    await agentOfType(api, "e1", "coder", swarm.id);
    expectType((await api.request(ScaleSwarmDocument, { input: { swarmId: swarm.id, agents: [{ agentType: "coder", count: 1 }], reason: "budget" } })).scaleSwarm, "ScaleSwarmPayload");

    // A supervisor that connects late replays from the log: nothing is lost.
    const socket = wsClient(server.wsUrl, server.token({ workspace: WS, scopes: ["swarms:read"] }));
    try {
      const events = collect(socket, SwarmControlEventsDocument, { swarmId: swarm.id, types: ["swarm.scale_requested"], after: "0" });
      await events.waitFor(2);
      expect(events.events.map((e) => [e.swarmEvents.type, e.swarmEvents.reason, e.swarmEvents.scaleChanges])).toEqual([
        ["swarm.scale_requested", "initial agents", [{ agentType: "coder", previousDesired: 0, desired: 3, actual: 0, difference: 3 }]],
        ["swarm.scale_requested", "budget", [{ agentType: "coder", previousDesired: 3, desired: 1, actual: 1, difference: 0 }]],
      ]);
      // Live too: the next request arrives, with the composition as it is after it.
      expectType((await api.request(ScaleSwarmDocument, { input: { swarmId: swarm.id, agents: [{ agentType: "coder", count: 2, operation: "ADD" }] } })).scaleSwarm, "ScaleSwarmPayload");
      const [, , live] = await events.waitFor(3);
      expect(live!.swarmEvents).toMatchObject({ type: "swarm.scale_requested", reason: null, scaleChanges: [{ agentType: "coder", previousDesired: 1, desired: 3, actual: 1, difference: 2 }] });
      expect(live!.swarmEvents.swarm?.composition).toEqual([{ agentType: "coder", desired: 3, actual: 1, difference: 2 }]);
      events.stop();
    } finally {
      await socket.dispose();
    }
  });

  it("refuses bad input with typed errors and changes nothing", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(await createSwarm(api, { name: "strict", maxAgents: 5, initialAgents: [{ agentType: "coder", count: 2 }] }), "CreateSwarmPayload").swarm;
    const scale = async (agents: { agentType: string; count: number; operation?: "SET" | "ADD" | "REMOVE" }[], swarmId = swarm.id, client = api) =>
      (await client.request(ScaleSwarmDocument, { input: { swarmId, agents } })).scaleSwarm;

    expect(await scale([{ agentType: "coder", count: -1 }])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.agents.0.count", message: "must not be negative" }] });
    expect(await scale([{ agentType: "coder", count: 3, operation: "REMOVE" }])).toMatchObject({
      __typename: "InvalidInputError",
      issues: [{ path: "input.agents.0.count", message: "cannot remove 3 coder: only 2 desired" }],
    });
    expect(await scale([{ agentType: "coder", count: 1 }, { agentType: "coder", count: 2 }])).toMatchObject({
      __typename: "InvalidInputError",
      issues: [{ path: "input.agents.1.agentType", message: '"coder" is named twice' }],
    });
    expect(await scale([{ agentType: "coder", count: 4, operation: "ADD" }])).toMatchObject({
      __typename: "InvalidInputError",
      issues: [{ path: "input.agents", message: "desires 6 agents in all, more than the swarm's maxAgents of 5" }],
    });
    expect(await scale([])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.agents", message: "must name at least one agent type" }] });
    expect(await scale([{ agentType: "bad type!", count: 1 }])).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.agents.0.agentType" }] });

    // Another workspace's swarm is as unknown as a swarm that does not exist.
    const other = server.client({ workspace: "scale-other-ws" });
    expect(await scale([{ agentType: "coder", count: 1 }], swarm.id, other)).toMatchObject({ __typename: "NotFoundError", entityType: "Swarm" });
    const unknown = Buffer.from("Swarm:0197aaaa-0000-7000-8000-000000000000").toString("base64");
    expect(await scale([{ agentType: "coder", count: 1 }], unknown)).toMatchObject({ __typename: "NotFoundError", entityType: "Swarm" });

    // Nothing changed by any refusal.
    expect((await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm!.composition).toEqual([{ agentType: "coder", desired: 2, actual: 0, difference: 2 }]);

    expectType((await api.request(ArchiveSwarmDocument, { id: swarm.id })).archiveSwarm, "ArchiveSwarmPayload");
    expect(await scale([{ agentType: "coder", count: 1 }])).toMatchObject({ __typename: "IllegalTransitionError", entityId: swarm.id, fromStatus: "ARCHIVED", action: "scale" });

    // At creation: bad initialAgents create no swarm.
    for (const [initialAgents, path, message] of [
      [[{ agentType: "coder", count: -2 }], "input.initialAgents.0.count", "must not be negative"],
      [[{ agentType: "coder", count: 1 }, { agentType: "coder", count: 1 }], "input.initialAgents.1.agentType", '"coder" is named twice'],
      [[{ agentType: "coder", count: 6 }], "input.initialAgents", "desires 6 agents in all, more than the swarm's maxAgents of 5"],
    ] as const) {
      expect(await createSwarm(api, { name: "never created", maxAgents: 5, initialAgents: [...initialAgents] })).toMatchObject({ __typename: "InvalidInputError", issues: [{ path, message }] });
    }
    const swarms = (await api.request(SwarmsCompositionDocument)).swarms.edges.map((e) => e.node.id);
    expect(swarms).toEqual(expect.arrayContaining([swarm.id]));
    expect(await api.raw('{ swarms(first: 1, filter: { nameContains: "never created" }) { totalCount } }')).toMatchObject({ data: { swarms: { totalCount: 0 } } });
  });

  it("concurrent scale requests apply one after the other: 20 concurrent ADDs add up to 20", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(await createSwarm(api, { name: "crowded" }), "CreateSwarmPayload").swarm;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => api.request(ScaleSwarmDocument, { input: { swarmId: swarm.id, agents: [{ agentType: "coder", count: 1, operation: "ADD" }] } })),
    );
    expect(results.every((r) => r.scaleSwarm.__typename === "ScaleSwarmPayload")).toBe(true);
    expect((await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm!.composition).toEqual([{ agentType: "coder", desired: 20, actual: 0, difference: 20 }]);
    // Each request saw the one before it: previous desired counts are 0…19, each once.
    const socket = wsClient(server.wsUrl, server.token({ workspace: WS, scopes: ["swarms:read"] }));
    try {
      const events = collect(socket, SwarmControlEventsDocument, { swarmId: swarm.id, types: ["swarm.scale_requested"], after: "0" });
      await events.waitFor(20);
      expect(events.events.map((e) => e.swarmEvents.scaleChanges![0]!.previousDesired).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      events.stop();
    } finally {
      await socket.dispose();
    }
  });
});

describe("topology changes", () => {
  it("carry the previous topology and the reason in swarm.topology_changed", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(await createSwarm(api, { name: "shape-shifter", topology: "HIERARCHICAL" }), "CreateSwarmPayload").swarm;
    const socket = wsClient(server.wsUrl, server.token({ workspace: WS, scopes: ["swarms:read"] }));
    try {
      const events = collect(socket, SwarmControlEventsDocument, { swarmId: swarm.id, types: ["swarm.topology_changed"], after: "0" });
      expectType((await api.request(ChangeTopologyDocument, { id: swarm.id, topology: "MESH", reason: "optimization" })).updateSwarm, "UpdateSwarmPayload");
      expectType((await api.request(ChangeTopologyDocument, { id: swarm.id, topology: "STAR" })).updateSwarm, "UpdateSwarmPayload");
      // The same topology again is no change: no event; a reason without a change is refused.
      expectType((await api.request(ChangeTopologyDocument, { id: swarm.id, topology: "STAR" })).updateSwarm, "UpdateSwarmPayload");
      expect((await api.request(ChangeTopologyDocument, { id: swarm.id, topology: "STAR", reason: "why not" })).updateSwarm).toMatchObject({
        __typename: "InvalidInputError",
        issues: [{ path: "input.reason" }],
      });
      expect((await api.request(ChangeTopologyDocument, { id: swarm.id, reason: "why not" })).updateSwarm).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.reason" }] });
      expectType((await api.request(ChangeTopologyDocument, { id: swarm.id, topology: "RING", reason: "last" })).updateSwarm, "UpdateSwarmPayload");
      await events.waitFor(3);
      expect(events.events.map((e) => [e.swarmEvents.previousTopology, e.swarmEvents.topology, e.swarmEvents.reason])).toEqual([
        ["HIERARCHICAL", "MESH", "optimization"],
        ["MESH", "STAR", null],
        ["STAR", "RING", "last"],
      ]);
      events.stop();
    } finally {
      await socket.dispose();
    }
  });
});

describe("createSwarm with its first tasks", () => {
  it("creates the swarm and its tasks together", async () => {
    const api = server.client({ workspace: WS });
    const swarm = expectType(
      await createSwarm(api, { name: "with work", tasks: [{ description: "Design system architecture", type: "design" }, { description: "Implement user service", type: "code", priority: "HIGH" }] }),
      "CreateSwarmPayload",
    ).swarm;
    expect(swarm.taskSummary.total).toBe(2);
    const tasks = (await api.request(SwarmTasksDocument, { swarmId: swarm.id })).tasks;
    expect(tasks.edges.map((e) => [e.node.description, e.node.status, e.node.swarm?.id]).sort()).toEqual([
      ["Design system architecture", "PENDING", swarm.id],
      ["Implement user service", "PENDING", swarm.id],
    ]);
  });

  it("creates nothing when one task is invalid: no swarm, no task", async () => {
    const api = server.client({ workspace: "atomic-ws" });
    const missingTask = Buffer.from("Task:0197aaaa-0000-7000-8000-000000000000").toString("base64");
    const refusals = [
      [await createSwarm(api, { name: "doomed", initialAgents: [{ agentType: "coder", count: 1 }], tasks: [{ description: "fine", type: "t" }, { description: " ", type: "t" }] }), "InvalidInputError"],
      [await createSwarm(api, { name: "doomed", tasks: [{ description: "fine", type: "t" }, { description: "bad type", type: "no spaces allowed" }] }), "InvalidInputError"],
      [await createSwarm(api, { name: "doomed", tasks: [{ description: "fine", type: "t" }, { description: "waits for nothing", type: "t", dependsOn: [missingTask] }] }), "NotFoundError"],
    ] as const;
    expect(refusals[0]![0]).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.tasks.1.description", message: "must not be empty" }] });
    expect(refusals[1]![0]).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.tasks.1.type" }] });
    expect(refusals[2]![0]).toMatchObject({ __typename: "NotFoundError", entityType: "Task" });
    expect((await api.request(SwarmsCompositionDocument)).swarms.edges).toEqual([]);
    expect(await api.raw("{ tasks(first: 1) { totalCount } }")).toMatchObject({ data: { tasks: { totalCount: 0 } } });
  });
});
