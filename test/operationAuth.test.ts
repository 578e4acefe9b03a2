/**
 * graphql-ws operations carrying their own token, as GraphiQL sends them: an empty
 * connection_init payload, and the Headers tab's Authorization header in each subscribe
 * message's `extensions.headers`. Queries, mutations and subscriptions all authenticate that way.
 */
import { print } from "graphql";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { Client as WsClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateTaskDocument, TaskEventsDocument, ViewerDocument } from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const headers = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

type Result<T> = { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };

/** Runs a query or mutation over graphql-ws and returns its one result (a refused operation's errors too). */
async function once<T, V>(client: WsClient, document: TypedDocumentNode<T, V>, variables: V, extensions?: Record<string, unknown>): Promise<Result<T>> {
  try {
    for await (const result of client.iterate({ query: print(document), variables: variables as Record<string, unknown>, ...(extensions ? { extensions } : {}) })) {
      return result as Result<T>;
    }
  } catch (errors) {
    // graphql-ws rejects with the `error` message's list when the server refuses the operation.
    if (Array.isArray(errors)) return { errors };
    throw errors;
  }
  throw new Error("no result");
}

describe("a graphql-ws connection opened without a token", () => {
  it("runs queries, mutations and subscriptions with the Authorization header each operation carries", async () => {
    const client = wsClient(server.wsUrl);
    try {
      const token = server.token({ workspace: "ws-graphiql", subject: "graphiql-user" });
      const events = collect(client, TaskEventsDocument, { after: "0" }, headers(token));

      const viewer = await once(client, ViewerDocument, {}, headers(token));
      expect(viewer.errors).toBeUndefined();
      expect(viewer.data?.viewer).toMatchObject({ subject: "graphiql-user", workspaceId: "ws-graphiql" });

      const created = await once(client, CreateTaskDocument, { input: { description: "typed in GraphiQL", type: "docs" } }, headers(token));
      const task = expectType(created.data!.createTask, "CreateTaskPayload").task;

      const [event] = await events.waitFor(1);
      expect(event!.taskEvents).toMatchObject({ type: "task.created", taskId: task.id, actor: "graphiql-user" });
      expect(events.errors).toEqual([]);
    } finally {
      await client.dispose();
    }
  });

  it("answers a subscription without any token with UNAUTHENTICATED saying where the token goes", async () => {
    const client = wsClient(server.wsUrl);
    try {
      const events = collect(client, TaskEventsDocument, {});
      await events.ended;
      expect(events.errors).toHaveLength(1);
      expect(events.errors[0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" }, message: expect.stringMatching(/Authorization: Bearer/) });
    } finally {
      await client.dispose();
    }
  });

  it("refuses a bad per-operation token with UNAUTHENTICATED and keeps serving the connection's other operations", async () => {
    const client = wsClient(server.wsUrl);
    try {
      const bad = await once(client, ViewerDocument, {}, { headers: { authorization: "Bearer not-a-jwt" } });
      expect(bad.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const good = await once(client, ViewerDocument, {}, headers(server.token({ subject: "still-here" })));
      expect(good.data?.viewer.subject).toBe("still-here");
    } finally {
      await client.dispose();
    }
  });
});

describe("a connection authenticated in connection_init", () => {
  it("uses an operation's own Authorization header over the connection's token", async () => {
    const client = wsClient(server.wsUrl, server.token({ workspace: "ws-a", subject: "connection" }));
    try {
      const plain = await once(client, ViewerDocument, {});
      expect(plain.data?.viewer).toMatchObject({ subject: "connection", workspaceId: "ws-a" });
      const own = await once(client, ViewerDocument, {}, headers(server.token({ workspace: "ws-b", subject: "operation" })));
      expect(own.data?.viewer).toMatchObject({ subject: "operation", workspaceId: "ws-b" });
    } finally {
      await client.dispose();
    }
  });
});
