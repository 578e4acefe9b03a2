/**
 * The example agent (`swarmgraph worker`): the seeds' HaikuAgent loop with zero polling. It
 * registers, subscribes to `tasksAvailable`, claims only when told something is available (or a
 * slot frees up), heartbeats, reports progress and completes. After a disconnect graphql-ws
 * reconnects and the subscription resumes from the last cursor it saw, so nothing is missed.
 * When the server closes the socket because the token expired (4401) or was revoked (4403), the
 * worker stops instead of retrying: only a new token helps.
 *
 * Given work (`agentWork`): on the same connection the worker follows its agent's `agentWork`, so a
 * task an operator hands it (assignTask, rebalanceSwarm: ASSIGNED, with the lease) — or one it
 * already holds when the subscription opens without a cursor (HELD) — runs exactly like claimed
 * work, under the pushed lease token, ahead of new claims and within the concurrency limit.
 * RESERVED work needs nothing more: tasksAvailable offers it too and the worker claims it there.
 * That subscription also resumes from its own cursor; a lease token seen twice (a task pushed as
 * HELD while the worker's own claim of it is answered) runs once.
 *
 * Blackboard mode (`consumes`): the worker declares the artifact types it consumes and produces;
 * every artifact of a consumed type then arrives as a task reserved for it. It reads the task's
 * input artifacts, runs `handle` on them and completes the task with the returned artifacts as
 * outputs, which the server publishes in the same transaction and hands to their consumers. A
 * pipeline needs no code beyond the handlers.
 *
 * Swarm mode (`swarmId`): the worker registers with an agent `type`, joins the swarm, and claims
 * only that swarm's tasks. `drain()` is its graceful end: it stops claiming, finishes the tasks
 * it holds, then terminates its agent (so it leaves the swarm). The supervisor
 * (src/worker/supervisor.ts) starts such workers as processes and drains them with SIGTERM.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { type Login, logIn, renew, type Tokens } from "./login.ts";
import {
  type ArtifactInput,
  WorkerAgentWorkDocument,
  WorkerClaimDocument,
  WorkerClaimManyDocument,
  WorkerCompleteDocument,
  WorkerCompleteManyDocument,
  WorkerDeclareArtifactTypesDocument,
  WorkerTaskInputsDocument,
  WorkerHeartbeatDocument,
  WorkerJoinSwarmDocument,
  WorkerProgressDocument,
  WorkerProgressManyDocument,
  WorkerRegisterDocument,
  WorkerStartDocument,
  WorkerTasksAvailableDocument,
  WorkerTerminateDocument,
} from "./generated/graphql.ts";

export interface WorkerOptions {
  /** `http(s)://host:port/graphql` */
  url: string;
  /** A token to use as is; or `login` to get one (and renew it before it expires). */
  token?: string;
  /** Sign in with client credentials or the device flow (src/worker/login.ts) instead of `token`. */
  login?: Login;
  /** Renew the access token this many seconds before it expires (default: a fifth of its lifetime). */
  renewBeforeSeconds?: number;
  name: string;
  /** The agent type it registers with (default "worker"): what a swarm's desired composition counts. */
  type?: string;
  /** Swarm mode: join this swarm (global id) after registering, and claim only its tasks. */
  swarmId?: string;
  capabilities?: string[];
  types?: string[];
  /** Tasks worked on at once. */
  concurrency?: number;
  /**
   * How often the agent heartbeats and renews the lease of every task it holds, running or given
   * and waiting for a slot (default 15; keep it well under the server's TASK_LEASE_SECONDS).
   */
  heartbeatSeconds?: number;
  /** Does the work; returns the result. Default: echoes the task's context. */
  work?: (task: { id: string; description: string; context: unknown }, progress: (fraction: number) => Promise<void>) => Promise<Record<string, unknown>>;
  log?: (message: string) => void;
  /** Blackboard mode: the artifact types this worker consumes (each arrives as a task reserved for it). */
  consumes?: string[];
  /** Blackboard mode: the artifact types it produces (declared; the default handler publishes one of each). */
  publishes?: string[];
  /** Blackboard mode: turns a task's input artifacts into output artifacts. Default: one artifact of each `publishes` type echoing the inputs. */
  handle?: ArtifactHandler;
}

/** An input artifact as a handler receives it. */
export interface InputArtifact {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  tags: string[];
  partitionKey?: string | null;
  correlationId: string;
}

export type ArtifactHandler = (inputs: InputArtifact[], task: { id: string; type: string }) => Promise<ArtifactInput[]>;

/** A task the agent holds, with the lease token to work on it: claimed, or given on agentWork. */
interface Claim {
  task: { id: string; type: string; description: string; context: unknown };
  leaseToken: string;
}

/** The task types of blackboard work (src/modules/artifacts/service.ts). */
const BLACKBOARD_TASK_TYPES = ["artifact.consume", "artifact.run"];

export interface RunningWorker {
  agentId: string;
  /** Tasks completed so far. */
  readonly completed: number;
  /** The cursor of the last `tasksAvailable` event received: where the subscription resumes after a disconnect. */
  readonly cursor: string | null;
  /** The cursor of the last `agentWork` event received: where that subscription resumes after a disconnect. */
  readonly workCursor: string | null;
  /**
   * Settles when the worker gives up by itself, with why: its token expired (4401) or was
   * revoked (4403). Reconnecting cannot help then; it needs a new token.
   */
  readonly ended: Promise<string>;
  /** How many times the access token was renewed (each time the subscription moved to a new connection). */
  readonly renewals: number;
  /** Tasks held right now: those being worked on and those given to it (agentWork) waiting for a free slot. */
  readonly active: number;
  /**
   * The graceful end: stops claiming, waits until the tasks it holds (given ones included) are finished, then
   * terminates its agent (leaving its swarms) and stops. Resolves when all that is done.
   */
  drain(reason?: string): Promise<void>;
  /** Stops at once: no more claims; tasks still held are left to their lease. */
  stop(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 1;
  if (!options.token && !options.login) throw new Error("startWorker needs a token or a login");
  let tokens: Tokens = options.login ? await logIn(options.url, options.login) : { accessToken: options.token!, refreshToken: null, expiresIn: 0 };
  if (options.login) log(`signed in (${options.login.kind === "device" ? "device flow" : "client credentials"}); token valid ${tokens.expiresIn} s`);
  const request = async <R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> => {
    const response = await fetch(options.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.accessToken}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as { data?: R; errors?: { message: string }[] };
    if (!body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  };

  const registered = (await request(WorkerRegisterDocument, { input: { name: options.name, type: options.type ?? "worker", capabilities: options.capabilities ?? [] } })).registerAgent;
  if (registered.__typename !== "RegisterAgentPayload") throw new Error(`could not register: ${JSON.stringify(registered)}`);
  const agentId = registered.agent.id;
  log(`registered as ${agentId}`);
  const swarmId = options.swarmId ?? null;
  if (swarmId) {
    const joined = (await request(WorkerJoinSwarmDocument, { swarmId, agentId })).joinSwarm;
    if (joined.__typename !== "JoinSwarmPayload") {
      // An agent that cannot join would only sit there: give its registration back.
      await request(WorkerTerminateDocument, { id: agentId, reason: `could not join swarm ${swarmId}` }).catch(() => undefined);
      throw new Error(`could not join swarm ${swarmId}: ${JSON.stringify(joined)}`);
    }
    log(`joined swarm ${swarmId}`);
  }
  const blackboard = (options.consumes?.length ?? 0) > 0 || (options.publishes?.length ?? 0) > 0;
  if (blackboard) {
    const declared = (
      await request(WorkerDeclareArtifactTypesDocument, {
        input: { agentId, consumes: options.consumes?.length ? [{ types: options.consumes }] : [], produces: options.publishes ?? [] },
      })
    ).declareArtifactTypes;
    if (declared.__typename !== "DeclareArtifactTypesPayload") throw new Error(`could not declare artifact types: ${JSON.stringify(declared)}`);
    log(`consumes ${options.consumes?.join(", ") || "nothing"}; publishes ${options.publishes?.join(", ") || "nothing"}`);
  }
  // Blackboard work is reserved for this agent; a type filter must not exclude it.
  const claimTypes = options.types ? [...options.types, ...(blackboard ? BLACKBOARD_TASK_TYPES : [])] : null;
  const handle: ArtifactHandler =
    options.handle ??
    (async (inputs) =>
      (options.publishes ?? []).map((type) => ({ type, payload: { inputs: inputs.map((i) => ({ type: i.type, payload: i.payload })), by: options.name } })));

  let completed = 0;
  let active = 0;
  /** No more claims (drain, stop, or the token is gone). */
  let stopped = false;
  /** Nothing more starts, not even given work (stop, or the token is gone). */
  let halted = false;
  /** Work given to the agent (agentWork ASSIGNED or HELD), already held, waiting for a free slot. */
  const given: Claim[] = [];
  /**
   * Lease tokens of the work taken on, claimed or given: a task can reach the worker both ways
   * (HELD in agentWork's first snapshot while its own claim is being answered) and must run once.
   * Bounded: a duplicate only ever arrives close to the first.
   */
  const taken = new Set<string>();
  const take = (leaseToken: string): boolean => {
    if (taken.has(leaseToken)) return false;
    taken.add(leaseToken);
    if (taken.size > 10_000) taken.delete(taken.values().next().value!);
    return true;
  };
  /**
   * Every task the agent holds, running or given and waiting, with its lease token and the last
   * progress its handler reported. The heartbeat renews each lease with that progress: a handler
   * that runs longer than the lease without reporting progress, or given work waiting behind a
   * long one, would otherwise lose its lease and be run a second time elsewhere.
   */
  const holding = new Map<string, { leaseToken: string; progress: number }>();
  /** Waiters for `active` to reach 0 (drain). */
  let idle: (() => void)[] = [];
  /** Wakes a drain waiting for the agent to hold nothing, once it holds nothing. */
  const resolveIdle = () => {
    if (active === 0 && given.length === 0) idle.splice(0).forEach((resolve) => resolve());
  };
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

  /** A blackboard task: its inputs through the handler, the outputs published by the completion. */
  async function consume(task: { id: string; type: string }): Promise<{ result: Record<string, unknown>; outputs: ArtifactInput[] }> {
    const node = (await request(WorkerTaskInputsDocument, { taskId: task.id })).node;
    const inputs = node && "inputArtifacts" in node ? (node.inputArtifacts as InputArtifact[]) : [];
    const outputs = await handle(inputs, task);
    return { result: { consumed: inputs.map((i) => i.id), published: outputs.length }, outputs };
  }

  /** Starts work the agent holds, claimed or given, in a slot already counted in `active`. */
  async function runOne(task: Claim["task"], leaseToken: string): Promise<void> {
    holding.set(task.id, { leaseToken, progress: holding.get(task.id)?.progress ?? 0 });
    try {
      await request(WorkerStartDocument, { taskId: task.id, leaseToken });
      const { result, outputs } = BLACKBOARD_TASK_TYPES.includes(task.type)
        ? await consume(task)
        : {
            result: await work(task, async (fraction) => {
              await request(WorkerProgressDocument, { taskId: task.id, leaseToken, progress: fraction });
              const held = holding.get(task.id);
              if (held?.leaseToken === leaseToken) held.progress = fraction;
            }),
            outputs: null,
          };
      // With concurrency above 1, results without outputs go out together (completeTasks).
      const refusal = concurrency > 1 && !outputs ? await completions.complete({ taskId: task.id, leaseToken, result }) : await completeOne(task.id, leaseToken, result, outputs);
      if (refusal) log(`task ${task.id} not completed: ${refusal}`);
      else completed += 1;
    } catch (error) {
      log(`task ${task.id} failed: ${String(error)}`);
    } finally {
      if (holding.get(task.id)?.leaseToken === leaseToken) holding.delete(task.id);
      active -= 1;
      kick();
      resolveIdle();
    }
  }

  /** Completes one task; returns why it was refused, or null. */
  async function completeOne(taskId: string, leaseToken: string, result: Record<string, unknown>, outputs: ArtifactInput[] | null): Promise<string | null> {
    const done = (await request(WorkerCompleteDocument, { taskId, leaseToken, result, outputs })).completeTask;
    return done.__typename === "CompleteTaskPayload" ? null : JSON.stringify(done);
  }

  const completions = batcher<{ taskId: string; leaseToken: string; result: Record<string, unknown> }, string | null>(async (batch) => {
    const payload = (await request(WorkerCompleteManyDocument, { completions: batch })).completeTasks;
    if (payload.__typename !== "CompleteTasksPayload") return batch.map(() => JSON.stringify(payload));
    return payload.outcomes.map((o) => (o.__typename === "Task" ? null : JSON.stringify(o)));
  });

  /** Claims tasks for the free slots: several at once (claimNextTasks) with concurrency above 1. */
  async function claimSome(): Promise<Claim[]> {
    if (concurrency === 1) {
      const claim = (await request(WorkerClaimDocument, { agentId, types: claimTypes, swarmId })).claimNextTask;
      return claim.__typename === "ClaimNextTaskPayload" && claim.task ? [{ task: claim.task, leaseToken: claim.leaseToken! }] : [];
    }
    const payload = (await request(WorkerClaimManyDocument, { agentId, types: claimTypes, max: concurrency - active, swarmId })).claimNextTasks;
    return payload.__typename === "ClaimNextTasksPayload" ? payload.claims : [];
  }

  function begin(claim: Claim): void {
    active += 1;
    void runOne(claim.task, claim.leaseToken);
  }

  /**
   * Fills the free slots: given work first (the agent holds it and its lease is running), then
   * claims while there are claimable tasks and nothing given waits; at most one pump at a time.
   */
  function kick(): void {
    wanted = true;
    if (pumping || halted) return;
    pumping = (async () => {
      while (wanted && !halted) {
        wanted = false;
        while (active < concurrency && given.length > 0 && !halted) begin(given.shift()!);
        while (active < concurrency && given.length === 0 && !stopped) {
          const claims = await claimSome();
          if (claims.length === 0) break;
          for (const claim of claims) if (take(claim.leaseToken)) begin(claim);
        }
      }
    })()
      .catch((error: unknown) => log(`claiming failed: ${String(error)}`))
      .finally(() => {
        pumping = undefined;
        if (wanted && !halted) kick();
      });
  }

  /**
   * Renews the lease of every task held by reporting its progress again: one request for all of
   * them (reportProgresses, in chunks of 100) when there are several. Given work whose lease is
   * gone is dropped, not run.
   */
  async function renewLeases(): Promise<void> {
    const held = [...holding].map(([taskId, { leaseToken, progress }]) => ({ taskId, leaseToken, progress }));
    for (let i = 0; i < held.length; i += 100) {
      const chunk = held.slice(i, i + 100);
      const refusals = chunk.length === 1 ? [await renewOne(chunk[0]!)] : await renewMany(chunk);
      chunk.forEach((report, j) => refusals[j] !== null && lost(report, refusals[j]!));
    }
  }

  /** @returns why the lease was not renewed, or null */
  async function renewOne(report: { taskId: string; leaseToken: string; progress: number }): Promise<string | null> {
    const renewed = (await request(WorkerProgressDocument, report)).reportProgress;
    return renewed.__typename === "ReportProgressPayload" ? null : JSON.stringify(renewed);
  }

  /** @returns per report, why its lease was not renewed, or null */
  async function renewMany(reports: { taskId: string; leaseToken: string; progress: number }[]): Promise<(string | null)[]> {
    const payload = (await request(WorkerProgressManyDocument, { reports })).reportProgresses;
    if (payload.__typename !== "ReportProgressesPayload") return reports.map(() => JSON.stringify(payload));
    return payload.outcomes.map((outcome) => (outcome.__typename === "Task" ? null : JSON.stringify(outcome)));
  }

  function lost({ taskId, leaseToken }: { taskId: string; leaseToken: string }, why: string): void {
    log(`lease of task ${taskId} not renewed: ${why}`);
    const waiting = given.findIndex((g) => g.task.id === taskId && g.leaseToken === leaseToken);
    if (waiting >= 0) {
      given.splice(waiting, 1);
      holding.delete(taskId);
      resolveIdle();
    }
  }

  // One renewal at a time: with many tasks or a slow server, a round may outlast the interval.
  let renewing: Promise<void> | undefined;
  const heartbeat = setInterval(() => {
    void request(WorkerHeartbeatDocument, { id: agentId }).catch(() => undefined);
    renewing ??= renewLeases()
      .catch((error: unknown) => log(`renewing leases failed: ${String(error)}`))
      .finally(() => (renewing = undefined));
  }, (options.heartbeatSeconds ?? 15) * 1000);
  heartbeat.unref();

  // graphql-ws re-sends this same payload on every reconnect: updating `after` in place makes the
  // resumed subscription start right after the last event this worker saw.
  const variables: { agentId: string; types: string[] | null; after: string | null; swarmId: string | null } = { agentId, types: claimTypes, after: null, swarmId };
  // The same for agentWork. Without a cursor yet, the subscription starts with what the agent
  // holds (HELD), so nothing given before it opened (or while it was down) is lost either.
  const workVariables: { agentId: string; after: string | null } = { agentId, after: null };

  /** One connection with its tasksAvailable and agentWork subscriptions, under one access token. */
  function subscribeWith(accessToken: string) {
    let retired = false;
    let onConnected: () => void = () => undefined;
    const connected = new Promise<void>((resolve) => (onConnected = resolve));
    const ws = createClient({
      url: options.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${accessToken}` },
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: (event) => !stopped && !retired && !isAccessClose(closeCode(event)),
      on: {
        connected: () => {
          onConnected();
          log(variables.after ? `connected; tasksAvailable resumes after cursor ${variables.after}` : "connected; subscribing to tasksAvailable");
          log(workVariables.after ? `agentWork resumes after cursor ${workVariables.after}` : "subscribing to agentWork");
        },
        closed: (event) => {
          if (stopped || retired) return;
          const code = closeCode(event);
          if (!isAccessClose(code)) {
            log("disconnected; reconnecting");
            return;
          }
          const why = `${code === 4401 ? "access token expired" : "access token revoked"} (${code}); stopping: start again with a new token`;
          log(why);
          stopped = true;
          halted = true;
          clearInterval(heartbeat);
          clearTimeout(renewal);
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
          if (retired) return;
          const code = closeCode(error);
          log(`subscription ended: ${code !== undefined ? `socket closed with ${code}` : error instanceof Error ? error.message : JSON.stringify(error)}`);
        },
        complete: () => undefined,
      },
    );
    const unsubscribeWork = ws.subscribe<{ agentWork: { cursor: string; kind: "ASSIGNED" | "HELD" | "RESERVED"; leaseToken?: string | null; task?: Claim["task"] | null } }>(
      { query: print(WorkerAgentWorkDocument), variables: workVariables },
      {
        next: ({ data }) => {
          const work = data?.agentWork;
          if (!work || retired) return;
          workVariables.after = work.cursor;
          // RESERVED: tasksAvailable offers it as well, and the claim loop takes it.
          if (work.kind === "RESERVED" || halted) return;
          // No token: the agent no longer holds it (completed, moved on, expired) by delivery.
          if (!work.task || !work.leaseToken || !take(work.leaseToken)) return;
          log(`${work.kind === "ASSIGNED" ? "assigned" : "holding"} task ${work.task.id}`);
          given.push({ task: work.task, leaseToken: work.leaseToken });
          holding.set(work.task.id, { leaseToken: work.leaseToken, progress: 0 });
          kick();
        },
        error: (error) => {
          if (retired) return;
          const code = closeCode(error);
          log(`agentWork ended: ${code !== undefined ? `socket closed with ${code}` : error instanceof Error ? error.message : JSON.stringify(error)}`);
        },
        complete: () => undefined,
      },
    );
    return {
      connected,
      async close() {
        retired = true;
        unsubscribe();
        unsubscribeWork();
        await ws.dispose();
      },
    };
  }

  let live = subscribeWith(tokens.accessToken);
  let renewals = 0;
  let renewal: NodeJS.Timeout | undefined;
  /**
   * Renews the token before it expires. The subscription moves to a connection opened with the
   * new token, which resumes from the cursor, before the old one closes: nothing is missed, and
   * the server never has to close a connection for an expired token.
   */
  function scheduleRenewal(): void {
    if (!options.login || !tokens.refreshToken || stopped) return;
    const before = options.renewBeforeSeconds ?? tokens.expiresIn / 5;
    renewal = setTimeout(() => void renewNow(), Math.max(tokens.expiresIn - before, 1) * 1000);
    renewal.unref();
  }
  async function renewNow(): Promise<void> {
    try {
      tokens = await renew(options.url, options.login!, tokens.refreshToken!);
      const previous = live;
      live = subscribeWith(tokens.accessToken);
      await live.connected;
      await previous.close();
      renewals += 1;
      log(`renewed the access token (valid ${tokens.expiresIn} s); subscription moved to a new connection`);
      kick();
    } catch (error) {
      log(`could not renew the access token: ${String(error)}; retrying in 5 s`);
      tokens = { ...tokens, expiresIn: 5 + (options.renewBeforeSeconds ?? 0) };
    }
    scheduleRenewal();
  }
  scheduleRenewal();

  return {
    agentId,
    get completed() {
      return completed;
    },
    get cursor() {
      return variables.after;
    },
    get workCursor() {
      return workVariables.after;
    },
    ended,
    get renewals() {
      return renewals;
    },
    get active() {
      return active + given.length;
    },
    async drain(reason = "drained: finished its tasks and stopped") {
      stopped = true;
      await live.close();
      await pumping;
      // Given work is held too: it runs before the agent leaves.
      kick();
      const held = active + given.length;
      if (held > 0) {
        log(`draining: finishing ${held} held task${held === 1 ? "" : "s"} before stopping`);
        await new Promise<void>((resolve) => idle.push(resolve));
      } else {
        log("draining: no task held");
      }
      // Heartbeats continue while held tasks finish; the agent leaves its swarms only now.
      const terminated = (await request(WorkerTerminateDocument, { id: agentId, reason })).terminateAgent;
      if (terminated.__typename !== "TerminateAgentPayload") log(`could not terminate agent ${agentId}: ${JSON.stringify(terminated)}`);
      else log(`terminated agent ${agentId}`);
      clearInterval(heartbeat);
      clearTimeout(renewal);
    },
    async stop() {
      stopped = true;
      halted = true;
      clearInterval(heartbeat);
      clearTimeout(renewal);
      await live.close();
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

/**
 * Gathers calls made in the same turn of the event loop into one call of `run` (which answers
 * each item, in order), so that results finishing together travel together.
 */
function batcher<Item, Answer>(run: (items: Item[]) => Promise<Answer[]>): { complete(item: Item): Promise<Answer> } {
  let pending: { item: Item; resolve(answer: Answer): void; reject(error: unknown): void }[] = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    run(batch.map((p) => p.item)).then(
      (answers) => batch.forEach((p, i) => p.resolve(answers[i]!)),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  };
  return {
    complete(item) {
      return new Promise<Answer>((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ item, resolve, reject });
      });
    },
  };
}
