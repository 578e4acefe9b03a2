/**
 * The supervisor (`swarmgraph worker --supervise --swarm S`): makes a swarm's desired
 * composition real on this machine. swarmgraph itself starts no processes; it records what a
 * swarm desires (`initialAgents`, `scaleSwarm`) and writes `swarm.scale_requested`. The supervisor
 * follows the swarm's events over graphql-ws (resuming from its cursor after a disconnect, never
 * polling) and, on every scale request, member change or exit of one of its workers, reconciles:
 *
 *   for each agent type: target = max(0, desired − live members it did not start)
 *   fewer of its own workers than target → start worker processes (`swarmgraph worker --swarm S
 *   --type T`, children of the same CLI); more → drain the surplus with SIGTERM: a draining worker
 *   stops claiming, finishes the tasks it holds, terminates its agent (leaving the swarm), exits.
 *
 * It never misses a request: it first reads the position of the swarm's latest event in the log
 * (auditTrail), subscribes after it, and only then reads the swarm and reconciles — a request
 * that committed in between is replayed by the subscription and reconciled again.
 *
 * Its own workers are known by name (a per-supervisor prefix), so a worker that has started but
 * not yet joined counts as on its way, and members started elsewhere are left alone. The token is
 * handed to the children in their environment (SWARMGRAPH_TOKEN), never on a command line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { SupervisorSwarmCursorDocument, SupervisorSwarmDocument, SupervisorSwarmEventsDocument } from "./generated/graphql.ts";

export interface SupervisorOptions {
  /** `http(s)://host:port/graphql` */
  url: string;
  /** Needs swarms:read; the workers it starts use it too (agents:write, tasks:claim, swarms:write). */
  token: string;
  /** Global id of the swarm to supervise. */
  swarmId: string;
  /** How to run the CLI for a child: the node arguments before `worker` (default: this process's own). */
  command?: string[];
  /** Further `swarmgraph worker` arguments for every child (e.g. --capabilities, --concurrency, --work). */
  workerArgs?: string[];
  /** Extra environment for the children. */
  env?: NodeJS.ProcessEnv;
  /** A type whose workers exit this many times in a row without joining is not started again. */
  maxFailedStarts?: number;
  log?: (message: string) => void;
}

/** A worker process the supervisor started. */
export interface SupervisedWorker {
  name: string;
  agentType: string;
  process: ChildProcess;
  /** Set once it joined the swarm. */
  joined: boolean;
  /** Set once the supervisor asked it to drain. */
  draining: boolean;
  /** Its output lines (stdout and stderr). */
  output: string[];
  /** Resolves with the exit code when the process has exited. */
  exited: Promise<number | null>;
}

export interface RunningSupervisor {
  /** Its workers that are running (draining ones included). */
  readonly workers: readonly SupervisedWorker[];
  /** Every worker it ever started, in start order. */
  readonly started: readonly SupervisedWorker[];
  /** Resolves after the next reconciliation that starts after this call has finished. */
  reconciled(): Promise<void>;
  /** Stops following the swarm; drains its workers (default) or kills them, and waits for them to exit. */
  stop(options?: { drain?: boolean }): Promise<void>;
}

interface SwarmState {
  status: string;
  composition: { agentType: string; desired: number }[];
  members: { agent: { name: string; type: string; status: string } }[];
}

export async function startSupervisor(options: SupervisorOptions): Promise<RunningSupervisor> {
  const log = options.log ?? (() => undefined);
  const prefix = `sup-${randomBytes(3).toString("hex")}`;
  const command = options.command ?? [...process.execArgv, process.argv[1]!];
  const maxFailedStarts = options.maxFailedStarts ?? 3;
  const workers = new Map<string, SupervisedWorker>();
  const started: SupervisedWorker[] = [];
  const failedStarts = new Map<string, number>();
  let serial = 0;
  let stopping = false;

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

  function startWorkerProcess(agentType: string): void {
    serial += 1;
    const name = `${prefix}-${agentType}-${serial}`;
    const child = spawn(process.execPath, [...command, "worker", "--url", options.url, "--swarm", options.swarmId, "--type", agentType, "--name", name, ...(options.workerArgs ?? [])], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...options.env, SWARMGRAPH_TOKEN: options.token },
    });
    const worker: SupervisedWorker = {
      name,
      agentType,
      process: child,
      joined: false,
      draining: false,
      output: [],
      exited: new Promise((resolve) => child.once("exit", (code) => resolve(code))),
    };
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n").filter(Boolean)) {
        worker.output.push(line);
        log(line);
        if (!worker.joined && line.includes(`joined swarm ${options.swarmId}`)) {
          worker.joined = true;
          failedStarts.delete(agentType);
        }
      }
    };
    child.stdout!.on("data", onLine);
    child.stderr!.on("data", onLine);
    workers.set(name, worker);
    started.push(worker);
    log(`started ${name} (pid ${child.pid}) as a ${agentType}`);
    void worker.exited.then((code) => {
      workers.delete(name);
      log(`${name} exited with ${code}`);
      if (!worker.draining && !worker.joined && code !== 0) failedStarts.set(agentType, (failedStarts.get(agentType) ?? 0) + 1);
      // A worker that ended without being asked may need a replacement.
      if (!worker.draining) schedule();
    });
  }

  function drainWorker(worker: SupervisedWorker): void {
    worker.draining = true;
    log(`draining ${worker.name}: it finishes its tasks, then leaves`);
    worker.process.kill("SIGTERM");
  }

  async function reconcileOnce(): Promise<void> {
    const swarm = (await request(SupervisorSwarmDocument, { id: options.swarmId })).swarm as SwarmState | null;
    const live = (agentType: string) => [...workers.values()].filter((w) => w.agentType === agentType && !w.draining);
    if (!swarm || swarm.status === "ARCHIVED") {
      for (const worker of workers.values()) if (!worker.draining) drainWorker(worker);
      return;
    }
    const desired = new Map(swarm.composition.map((c) => [c.agentType, c.desired]));
    const types = new Set([...desired.keys(), ...[...workers.values()].map((w) => w.agentType)]);
    for (const agentType of types) {
      const external = swarm.members.filter((m) => m.agent.type === agentType && m.agent.status !== "TERMINATED" && !m.agent.name.startsWith(`${prefix}-`)).length;
      const target = Math.max(0, (desired.get(agentType) ?? 0) - external);
      const mine = live(agentType);
      if (mine.length < target) {
        if ((failedStarts.get(agentType) ?? 0) >= maxFailedStarts) {
          log(`not starting more ${agentType} workers: the last ${maxFailedStarts} exited before joining`);
          continue;
        }
        for (let i = mine.length; i < target; i++) startWorkerProcess(agentType);
      } else if (mine.length > target) {
        // The newest first: the older ones are more likely to be in the middle of work.
        for (const worker of mine.slice(target).reverse()) drainWorker(worker);
      }
    }
  }

  // Reconciliations run one at a time; requests arriving meanwhile fold into one more run.
  let running: Promise<void> | undefined;
  let again = false;
  const waiters: (() => void)[] = [];
  function schedule(): void {
    again = true;
    if (running || stopping) return;
    running = (async () => {
      while (again && !stopping) {
        again = false;
        const finished = waiters.splice(0);
        try {
          await reconcileOnce();
        } catch (error) {
          log(`reconciling failed: ${String(error)}`);
        }
        finished.forEach((resolve) => resolve());
      }
    })().finally(() => {
      running = undefined;
      waiters.splice(0).forEach((resolve) => resolve());
    });
  }

  // Where to follow from: right after the swarm's latest event (see the header).
  const latest = (await request(SupervisorSwarmCursorDocument, { id: options.swarmId })).auditTrail.edges[0]?.node.id;
  if (!latest) throw new Error(`swarm ${options.swarmId} was not found (or the token lacks swarms:read)`);
  // graphql-ws re-sends this payload on every reconnect: `after` resumes where it left off.
  const variables: { swarmId: string; after: string | null } = { swarmId: options.swarmId, after: latest };
  const ws = createClient({
    url: options.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${options.token}` },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => !stopping,
  });
  const unsubscribe = ws.subscribe<{ swarmEvents: { cursor: string; type: string } }>(
    { query: print(SupervisorSwarmEventsDocument), variables },
    {
      next: ({ data }) => {
        if (!data?.swarmEvents) return;
        variables.after = data.swarmEvents.cursor;
        schedule();
      },
      error: (error) => log(`swarm events ended: ${error instanceof Error ? error.message : JSON.stringify(error)}`),
      complete: () => undefined,
    },
  );
  log(`supervising swarm ${options.swarmId} from event ${latest}`);
  schedule();

  return {
    get workers() {
      return [...workers.values()];
    },
    get started() {
      return [...started];
    },
    reconciled() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        schedule();
      });
    },
    async stop({ drain = true } = {}) {
      stopping = true;
      unsubscribe();
      await ws.dispose();
      await running;
      waiters.splice(0).forEach((resolve) => resolve());
      const all = [...workers.values()];
      for (const worker of all) {
        if (drain) {
          if (!worker.draining) drainWorker(worker);
        } else {
          worker.process.kill("SIGKILL");
        }
      }
      await Promise.all(all.map((w) => w.exited));
    },
  };
}
