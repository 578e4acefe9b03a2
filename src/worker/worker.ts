/**
 * The example agent (`swarmgraph worker`): the seeds' HaikuAgent loop with zero polling. It
 * registers, subscribes to `tasksAvailable`, claims only when told something is available (or a
 * slot frees up), heartbeats, reports progress and completes. After a disconnect graphql-ws
 * reconnects and the subscription resumes from the last cursor it saw, so nothing is missed.
 * When the server closes the socket because the token expired (4401) or was revoked (4403), the
 * worker stops instead of retrying: only a new token helps.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import {
  WorkerClaimDocument,
  WorkerCompleteDocument,
  WorkerHeartbeatDocument,
  WorkerProgressDocument,
  WorkerRegisterDocument,
  WorkerStartDocument,
  WorkerTasksAvailableDocument,
} from "./generated/graphql.ts";

export interface WorkerOptions {
  /** `http(s)://host:port/graphql` */
  url: string;
  token: string;
  name: string;
  capabilities?: string[];
  types?: string[];
  /** Tasks worked on at once. */
  concurrency?: number;
  heartbeatSeconds?: number;
  /** Does the work; returns the result. Default: echoes the task's context. */
  work?: (task: { id: string; description: string; context: unknown }, progress: (fraction: number) => Promise<void>) => Promise<Record<string, unknown>>;
  log?: (message: string) => void;
}

export interface RunningWorker {
  agentId: string;
  /** Tasks completed so far. */
  readonly completed: number;
  /** The cursor of the last `tasksAvailable` event received: where the subscription resumes after a disconnect. */
  readonly cursor: string | null;
  /**
   * Settles when the worker gives up by itself, with why: its token expired (4401) or was
   * revoked (4403). Reconnecting cannot help then; it needs a new token.
   */
  readonly ended: Promise<string>;
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 1;
  const request = async <R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> => {
    const response = await fetch(options.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${options.token}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
    if (!body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  const registered = (await request(WorkerRegisterDocument, { input: { name: options.name, type: "worker", capabilities: options.capabilities ?? [] } })).registerAgent;
  if (registered.__typename !== "RegisterAgentPayload") throw new Error(`could not register: ${JSON.stringify(registered)}`);
  const agentId = registered.agent.id;
  log(`registered as ${agentId}`);

  let completed = 0;
  let active = 0;
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let wanted = false;
  let end!: (reason: string) => void;
  const ended = new Promise<string>((resolve) => (end = resolve));

  const work =
    options.work ??
    (async (task, progress) => {
      await progress(0.5);
      return { echo: task.context, by: options.name };
    });

  async function runOne(task: { id: string; description: string; context: unknown }, leaseToken: string): Promise<void> {
    try {
      await request(WorkerStartDocument, { taskId: task.id, leaseToken });
      const result = await work(task, async (fraction) => {
        await request(WorkerProgressDocument, { taskId: task.id, leaseToken, progress: fraction });
      });
      const done = (await request(WorkerCompleteDocument, { taskId: task.id, leaseToken, result })).completeTask;
      if (done.__typename === "CompleteTaskPayload") completed += 1;
      else log(`task ${task.id} not completed: ${JSON.stringify(done)}`);
    } catch (error) {
      log(`task ${task.id} failed: ${String(error)}`);
    } finally {
      active -= 1;
      kick();
    }
  }

  /** Claims while there are free slots and claimable tasks; at most one pump at a time. */
  function kick(): void {
    wanted = true;
    if (pumping || stopped) return;
    pumping = (async () => {
      while (wanted && !stopped) {
        wanted = false;
        while (active < concurrency && !stopped) {
          const claim = (await request(WorkerClaimDocument, { agentId, types: options.types ?? null })).claimNextTask;
          if (claim.__typename !== "ClaimNextTaskPayload" || !claim.task) break;
          active += 1;
          void runOne(claim.task, claim.leaseToken!);
        }
      }
    })()
      .catch((error: unknown) => log(`claiming failed: ${String(error)}`))
      .finally(() => {
        pumping = undefined;
        if (wanted && !stopped) kick();
      });
  }

  const heartbeat = setInterval(() => {
    void request(WorkerHeartbeatDocument, { id: agentId }).catch(() => undefined);
  }, (options.heartbeatSeconds ?? 15) * 1000);
  heartbeat.unref();

  // graphql-ws re-sends this same payload on every reconnect: updating `after` in place makes the
  // resumed subscription start right after the last event this worker saw.
  const variables: { agentId: string; types: string[] | null; after: string | null } = { agentId, types: options.types ?? null, after: null };
  const ws = createClient({
    url: options.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.token}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: (event) => !stopped && !isAccessClose(closeCode(event)),
    on: {
      connected: () => log(variables.after ? `connected; tasksAvailable resumes after cursor ${variables.after}` : "connected; subscribing to tasksAvailable"),
      closed: (event) => {
        if (stopped) return;
        const code = closeCode(event);
        if (!isAccessClose(code)) {
          log("disconnected; reconnecting");
          return;
        }
        const why = `${code === 4401 ? "access token expired" : "access token revoked"} (${code}); stopping: start again with a new token`;
        log(why);
        stopped = true;
        clearInterval(heartbeat);
        end(why);
      },
    },
  });
  const unsubscribe = ws.subscribe<{ tasksAvailable: { cursor: string } }>(
    { query: print(WorkerTasksAvailableDocument), variables },
    {
      next: ({ data }) => {
        if (data?.tasksAvailable) variables.after = data.tasksAvailable.cursor;
        kick();
      },
      error: (error) => {
        const code = closeCode(error);
        log(`subscription ended: ${code !== undefined ? `socket closed with ${code}` : error instanceof Error ? error.message : JSON.stringify(error)}`);
      },
      complete: () => undefined,
    },
  );

  return {
    agentId,
    get completed() {
      return completed;
    },
    get cursor() {
      return variables.after;
    },
    ended,
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      unsubscribe();
      await ws.dispose();
      await pumping;
    },
  };
}

/** The close code of a socket close event; undefined for anything else (a network error). */
function closeCode(event: unknown): number | undefined {
  const code = (event as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** 4401 (token expired) and 4403 (access revoked): reconnecting with the same token cannot help. */
function isAccessClose(code: number | undefined): code is 4401 | 4403 {
  return code === 4401 || code === 4403;
}
