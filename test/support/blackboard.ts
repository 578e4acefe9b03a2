/** Helpers for the blackboard suites: agents acting through their own tokens, publishing, working. */
import type { Scope } from "../../src/auth/scopes.ts";
import { type ArtifactHandler, startWorker } from "../../src/worker/worker.ts";
import {
  type ArtifactInput,
  ClaimNextTaskDocument,
  CompleteWithOutputsDocument,
  DeclareArtifactTypesDocument,
  type PublishArtifactInput,
  PublishArtifactDocument,
  RegisterAgentDocument,
} from "../generated/graphql.ts";
import { expectType, type GraphQLClient } from "./client.ts";
import type { TestServer } from "./server.ts";

/** What a blackboard agent's token may do. */
export const AGENT_SCOPES: Scope[] = ["agents:write", "tasks:claim", "artifacts:write"];

export interface TestAgent {
  id: string;
  client: GraphQLClient;
  subject: string;
}

/** An agent registered by its own token (subject = name), optionally declaring what it consumes and produces. */
export async function blackboardAgent(
  server: TestServer,
  workspace: string,
  name: string,
  declare?: { consumes?: { types: string[]; tags?: string[]; partitionKeys?: string[] }[]; produces?: string[] },
): Promise<TestAgent> {
  const client = server.client({ workspace, subject: name, scopes: AGENT_SCOPES });
  const agent = expectType((await client.request(RegisterAgentDocument, { input: { name, type: "blackboard" } })).registerAgent, "RegisterAgentPayload").agent;
  if (declare) {
    expectType((await client.request(DeclareArtifactTypesDocument, { input: { agentId: agent.id, ...declare } })).declareArtifactTypes, "DeclareArtifactTypesPayload");
  }
  return { id: agent.id, client, subject: name };
}

/** The example worker in blackboard mode, in this process, with its own token (subject = name). */
export function blackboardWorker(server: TestServer, workspace: string, name: string, roles: { consumes: string[]; publishes: string[] }, handle: ArtifactHandler) {
  return startWorker({ url: server.url, token: server.token({ workspace, subject: name, scopes: AGENT_SCOPES }), name, ...roles, handle });
}

export async function publish(client: GraphQLClient, input: PublishArtifactInput) {
  return expectType((await client.request(PublishArtifactDocument, { input })).publishArtifact, "PublishArtifactPayload");
}

/** The agent claims its next task and completes it with `outputs`; fails the test when nothing is claimable. */
export async function work(agent: TestAgent, outputs: ArtifactInput[] = []) {
  const claim = expectType((await agent.client.request(ClaimNextTaskDocument, { agentId: agent.id })).claimNextTask, "ClaimNextTaskPayload");
  if (!claim.task) throw new Error(`agent ${agent.subject} had nothing to claim`);
  const done = (await agent.client.request(CompleteWithOutputsDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken!, outputs })).completeTask;
  return expectType(done, "CompleteTaskPayload").task;
}
