/**
 * Creating tasks in batches: a fixed number of SQL statements whatever the batch size, claims in
 * the order the batch gave, and a batch refused as a whole at its first bad task, naming it.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArchiveSwarmDocument,
  CancelTaskDocument,
  ClaimNextTasksDocument,
  CompleteTaskDocument,
  CreateSwarmDocument,
  CreateTasksWithRelationsDocument,
  type CreateTasksInput,
  RegisterAgentDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const statements: string[] = [];

beforeAll(async () => {
  // No lease sweeper: its background statements would be counted too.
  server = await startTestServer({ onQuery: (sql) => statements.push(sql), config: { leaseSweepIntervalMs: 0 } });
});
afterAll(() => server?.stop());

const create = (api: GraphQLClient, input: CreateTasksInput) => api.request(CreateTasksWithRelationsDocument, { input }).then((data) => data.createTasks);
const specs = (type: string, count: number) => Array.from({ length: count }, (_, i) => ({ description: `${type} ${i}`, type }));
const unknownTask = encodeGlobalID("Task", "no-such-task");
const unknownParent = encodeGlobalID("Task", "no-such-parent");
const taskCount = (workspaceId: string) => server.db.prisma.task.count({ where: { workspaceId } });

describe("createTasks", () => {
  it("costs the same statements for 100 tasks as for 10, and agents claim them in the batch's order", async () => {
    const api = server.client({ workspace: "creation-order" });
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "s", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    const parent = expectType(await create(api, { tasks: [{ description: "parent", type: "parent" }] }), "CreateTasksPayload").tasks[0]!;
    const shaped = (type: string, count: number) => specs(type, count).map((spec, i) => ({ ...spec, swarmId: swarm.id, parentId: i % 2 ? parent.id : null, dependsOn: i % 3 ? [] : [parent.id] }));

    statements.length = 0;
    expectType(await create(api, { tasks: shaped("small", 10) }), "CreateTasksPayload");
    const small = statements.length;
    statements.length = 0;
    const large = expectType(await create(api, { tasks: shaped("large", 100) }), "CreateTasksPayload").tasks;
    console.log(`createTasks SQL statements: 10 tasks → ${small}, 100 tasks → ${statements.length}`);
    expect(statements.length).toBe(small);
    expect(small).toBeLessThanOrEqual(20);

    // Every task as asked: its swarm, its parent one level up, WAITING on the unfinished parent.
    expect(large.map((t) => t.description)).toEqual(specs("large", 100).map((s) => s.description));
    large.forEach((task, i) => {
      expect(task).toMatchObject({ swarm: { id: swarm.id }, depth: i % 2 ? 1 : 0, parent: i % 2 ? { id: parent.id } : null, status: i % 3 ? "PENDING" : "WAITING" });
      expect(task.dependencies.map((d) => d.id)).toEqual(i % 3 ? [] : [parent.id]);
    });

    // Created in one transaction (one createdAt), still claimed in the batch's order.
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "drainer", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 100, types: ["large"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(claims.map((c) => c.task.id)).toEqual(large.filter((t) => t.status === "PENDING").map((t) => t.id));
  });

  it("takes a dependency's state: a completed one leaves the task PENDING, an unfinished one makes it WAITING", async () => {
    const api = server.client({ workspace: "creation-deps" });
    const [done, open] = expectType(await create(api, { tasks: specs("dep", 2) }), "CreateTasksPayload").tasks;
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "a", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const [claim] = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 1, types: ["dep"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(claim!.task.id).toBe(done!.id);
    expectType((await api.request(CompleteTaskDocument, { taskId: done!.id, leaseToken: claim!.leaseToken })).completeTask, "CompleteTaskPayload");

    const tasks = expectType(await create(api, { tasks: [{ description: "after done", type: "x", dependsOn: [done!.id] }, { description: "after both", type: "x", dependsOn: [done!.id, open!.id, done!.id] }] }), "CreateTasksPayload").tasks;
    expect(tasks.map((t) => t.status)).toEqual(["PENDING", "WAITING"]);
    expect(tasks[1]!.dependencies.map((d) => d.id).sort()).toEqual([done!.id, open!.id].sort());
  });

  it("refuses the whole batch at its first bad task, naming it, and creates none", async () => {
    const api = server.client({ workspace: "creation-refused" });
    const [cancelled, finishedParent] = expectType(await create(api, { tasks: specs("gone", 2) }), "CreateTasksPayload").tasks;
    await api.request(CancelTaskDocument, { id: cancelled!.id });
    await api.request(CancelTaskDocument, { id: finishedParent!.id });
    const archived = expectType((await api.request(CreateSwarmDocument, { input: { name: "old", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    expectType((await api.request(ArchiveSwarmDocument, { id: archived.id })).archiveSwarm, "ArchiveSwarmPayload");
    const before = await taskCount("creation-refused");
    const batch = (bad: object) => ({ tasks: [...specs("ok", 3), { description: "bad", type: "bad", ...bad }, { description: "also bad", type: "bad", dependsOn: [unknownTask] }] });

    expect(await create(api, batch({ dependsOn: [cancelled!.id] }))).toMatchObject({
      __typename: "InvalidInputError",
      issues: [{ path: "input.tasks.3.dependsOn", message: expect.stringContaining("CANCELLED") }],
    });
    expect(await create(api, batch({ parentId: finishedParent!.id }))).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.tasks.3.parentId" }] });
    expect(await create(api, batch({ parentId: unknownParent }))).toMatchObject({ __typename: "NotFoundError", entityType: "Task", entityId: unknownParent });
    expect(await create(api, batch({ swarmId: archived.id }))).toMatchObject({ __typename: "IllegalTransitionError", entityType: "Swarm", fromStatus: "ARCHIVED" });
    expect(await create(api, batch({}))).toMatchObject({ __typename: "NotFoundError", entityType: "Task", entityId: unknownTask });
    expect(await taskCount("creation-refused")).toBe(before);

    // Another workspace's task is no dependency of ours.
    const foreign = expectType(await create(server.client({ workspace: "creation-other" }), { tasks: specs("theirs", 1) }), "CreateTasksPayload").tasks[0]!;
    expect(await create(api, { tasks: [{ description: "x", type: "x", dependsOn: [foreign.id] }] })).toMatchObject({ __typename: "NotFoundError", entityType: "Task", entityId: foreign.id });
    expect(await taskCount("creation-refused")).toBe(before);
  });
});
