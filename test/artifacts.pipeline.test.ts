/**
 * Seed 004's pipeline end to end with three real worker processes (`swarmgraph worker
 * --consumes … --publishes …`, no code beyond the default handler): A's output is consumed by B,
 * B's by C. One publishArtifactAndWait returns C's artifact; a correlationEvents subscriber sees
 * every state change up to COMPLETED.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CorrelationDocument, CorrelationEventsDocument, PublishArtifactAndWaitDocument } from "./generated/graphql.ts";
import { AGENT_SCOPES } from "./support/blackboard.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const workers: ChildProcess[] = [];
const ws = "pipeline-ws";

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const worker of workers) {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.kill("SIGTERM");
      await once(worker, "exit");
    }
  }
  await server?.stop();
});

/** Starts `swarmgraph worker` in its own process; resolves once it has declared its artifact types. */
async function startWorkerProcess(name: string, consumes: string, publishes: string): Promise<{ output: string[] }> {
  const token = server.token({ workspace: ws, subject: name, scopes: AGENT_SCOPES });
  const child = spawn(process.execPath, [path.resolve("bin/swarmgraph.mjs"), "worker", "--url", server.url, "--token", token, "--name", name, "--consumes", consumes, "--publishes", publishes], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "silent" },
  });
  workers.push(child);
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(...chunk.toString().split("\n").filter(Boolean));
      if (output.some((line) => line.includes(`consumes ${consumes}; publishes ${publishes}`))) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("exit", (code) => reject(new Error(`worker ${name} exited with ${code}: ${output.join("\n")}`)));
  });
  return { output };
}

it("runs A → B → C from one publish; publishArtifactAndWait returns C's artifact; correlationEvents saw every state change", async () => {
  await Promise.all([startWorkerProcess("agent-a", "Idea", "Outline"), startWorkerProcess("agent-b", "Outline", "Draft"), startWorkerProcess("agent-c", "Draft", "Review")]);
  const admin = server.client({ workspace: ws });
  const correlationId = randomUUID();
  const socket = wsClient(server.wsUrl, server.token({ workspace: ws, scopes: ["artifacts:read"] }));
  try {
    const events = collect(socket, CorrelationEventsDocument, { correlationId });
    await events.waitFor(1);

    const result = expectType(
      (await admin.request(PublishArtifactAndWaitDocument, { input: { artifact: { type: "Idea", payload: { title: "blackboards" } }, correlationId, timeoutSeconds: 120, filter: { types: ["Review"] } } }))
        .publishArtifactAndWait,
      "PublishArtifactAndWaitPayload",
    );
    expect(result).toMatchObject({ correlationId, completed: true });
    expect(result.artifacts).toHaveLength(1);
    // C's review carries B's draft, which carries A's outline, which carries the idea.
    expect(result.artifacts[0]!.payload).toEqual({
      by: "agent-c",
      inputs: [{ type: "Draft", payload: { by: "agent-b", inputs: [{ type: "Outline", payload: { by: "agent-a", inputs: [{ type: "Idea", payload: { title: "blackboards" } }] } }] } }],
    });

    await events.ended;
    expect(events.errors).toEqual([]);
    expect(events.events.map((e) => [e.correlationEvents.type, e.correlationEvents.state, e.correlationEvents.pendingTasks, e.correlationEvents.completedTasks])).toEqual([
      ["correlation.snapshot", "NOT_FOUND", 0, 0],
      ["correlation.active", "ACTIVE", 1, 0],
      ["correlation.progress", "ACTIVE", 1, 1],
      ["correlation.progress", "ACTIVE", 1, 2],
      ["correlation.completed", "COMPLETED", 0, 3],
    ]);
    const correlation = (await admin.request(CorrelationDocument, { id: correlationId })).correlation;
    expect(correlation).toMatchObject({ state: "COMPLETED", artifactCount: 4, completedTasks: 3, errorCount: 0 });
    expect(correlation.artifacts.edges.map((e) => e.node.type)).toEqual(["Idea", "Outline", "Draft", "Review"]);
  } finally {
    await socket.dispose();
  }
});
