/**
 * Subscribers that receive an event with the same operation, workspace and scopes share one
 * execution of it (src/events/perEventContext.ts): each still gets every event, complete; a
 * subscriber with other scopes, or an operation that selects a nested object, is executed on its
 * own. The `swarmgraph_subscription_event_executions_total` counter shows which happened.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Scope } from "../src/auth/scopes.ts";
import { CreateSwarmDocument, CreateTaskDocument, SwarmEventPayloadsDocument, SwarmEventsDocument, SwarmEventTimesDocument } from "./generated/graphql.ts";
import { type Collector, collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

async function executions(): Promise<{ own: number; shared: number }> {
  const text = await (await fetch(server.metricsUrl)).text();
  const count = (kind: string) => Number(text.match(new RegExp(`^swarmgraph_subscription_event_executions_total\\{execution="${kind}"\\} (\\d+)`, "m"))?.[1] ?? 0);
  return { own: count("own"), shared: count("shared") };
}

async function createSwarm(name: string): Promise<string> {
  return expectType((await server.client().request(CreateSwarmDocument, { input: { name, objective: "shared delivery", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
}

async function createTask(description: string, swarmId?: string): Promise<string> {
  return expectType((await server.client().request(CreateTaskDocument, { input: { description, type: "shared", swarmId } })).createTask, "CreateTaskPayload").task.id;
}

const listeners = (n: number) => server.events.bus.listenerCount === n;
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Opens one subscription per scope set (each its own principal), after everything committed so
 * far, live once every listener is registered; `close` returns when the server has let go of them all.
 */
async function subscribers<T, V>(document: Parameters<typeof collect<T, V>>[1], variables: V, scopeSets: Scope[][]) {
  // A subscription without `after` starts at the position this server has read: read the log up
  // to what is committed (the swarm's creation), or a slow tailer hands that event on live.
  await server.events.tailer.settle();
  await server.events.tailer.drain();
  const listening = server.events.bus.listenerCount;
  const clients = scopeSets.map((scopes, i) => wsClient(server.wsUrl, server.token({ subject: `watcher-${i}`, scopes })));
  const collectors: Collector<T>[] = clients.map((client) => collect(client, document, variables));
  await until(() => listeners(listening + clients.length));
  return {
    collectors,
    close: async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      await until(() => listeners(listening));
    },
  };
}

describe("one execution per event for subscribers with the same operation, workspace and scopes", () => {
  it("executes each event once for four subscribers of a swarm, and each receives every event of the swarm, complete", async () => {
    const swarmId = await createSwarm("shared");
    const { collectors, close } = await subscribers(SwarmEventTimesDocument, { swarmId }, [["swarms:read"], ["swarms:read"], ["swarms:read"], ["swarms:read"]]);
    try {
      const before = await executions();
      const ids = [await createTask("one", swarmId), await createTask("elsewhere"), await createTask("two", swarmId), await createTask("three", swarmId)];
      const expected = [ids[0], ids[2], ids[3]];
      for (const collector of collectors) {
        const events = await collector.waitFor(3);
        expect(events.map((e) => e.swarmEvents.taskId)).toEqual(expected);
        expect(events.every((e) => e.swarmEvents.type === "task.created" && /^\d+$/.test(e.swarmEvents.cursor) && !Number.isNaN(Date.parse(e.swarmEvents.at)))).toBe(true);
        expect(collector.errors).toEqual([]);
      }
      // The same cursors for all: one result each, handed to every subscriber.
      expect(new Set(collectors.map((c) => c.events.map((e) => e.swarmEvents.cursor).join()))).toHaveLength(1);
      const after = await executions();
      expect({ own: after.own - before.own, shared: after.shared - before.shared }).toEqual({ own: 3, shared: 9 });
    } finally {
      await close();
    }
  });

  it("gives a subscriber with other scopes its own execution: the payload follows each viewer's scopes", async () => {
    const swarmId = await createSwarm("scopes");
    // Task details in swarmEvents need tasks:read (see Event.payload).
    const { collectors, close } = await subscribers(SwarmEventPayloadsDocument, { swarmId }, [["swarms:read", "tasks:read"], ["swarms:read"], ["swarms:read", "tasks:read"], ["swarms:read"]]);
    try {
      const before = await executions();
      await createTask("seen by task readers only", swarmId);
      await createTask("again", swarmId);
      const [reader, other, reader2, other2] = await Promise.all(collectors.map((c) => c.waitFor(2)));
      for (const events of [reader!, reader2!]) expect(events.map((e) => [e.swarmEvents.payload.type, e.swarmEvents.payload.status])).toEqual([["shared", "PENDING"], ["shared", "PENDING"]]);
      for (const events of [other!, other2!]) expect(events.map((e) => e.swarmEvents.payload)).toEqual([{}, {}]);
      const after = await executions();
      expect({ own: after.own - before.own, shared: after.shared - before.shared }).toEqual({ own: 4, shared: 4 });
    } finally {
      await close();
    }
  });

  it("executes an operation that selects a nested object for each subscriber", async () => {
    const swarmId = await createSwarm("nested");
    const { collectors, close } = await subscribers(SwarmEventsDocument, { swarmId }, [["swarms:read", "tasks:read"], ["swarms:read", "tasks:read"]]);
    try {
      const before = await executions();
      const taskId = await createTask("nested", swarmId);
      for (const collector of collectors) expect((await collector.waitFor(1))[0]!.swarmEvents.task?.id).toBe(taskId);
      const after = await executions();
      expect({ own: after.own - before.own, shared: after.shared - before.shared }).toEqual({ own: 2, shared: 0 });
    } finally {
      await close();
    }
  });
});
