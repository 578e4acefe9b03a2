/** Findings: posting, conflict detection and escalation, validation, retraction, resolution, filters, and the audit trail. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuditTrailDocument,
  ConflictDocument,
  ConflictsDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  FindingDocument,
  FindingsDocument,
  PauseAgentDocument,
  PostFindingDocument,
  RegisterAgentDocument,
  ResolveConflictDocument,
  RetractFindingDocument,
  ValidateFindingDocument,
  type PostFindingInput,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "findings-ws", subject: "researcher-1" });
});
afterAll(() => server?.stop());

const REDIS_NOTES = "positions differ on subject redis persistence: 'aof' (0.92) vs 'rdb' (0.57); delta 0.35 ≥ 0.30 → escalate";

async function post(input: Partial<PostFindingInput> & Pick<PostFindingInput, "subject" | "position" | "confidence">, client = api) {
  return (await client.request(PostFindingDocument, { input: { claim: `${input.position} on ${input.subject}`, ...input } })).postFinding;
}
async function posted(input: Parameters<typeof post>[0], client = api) {
  return expectType(await post(input, client), "PostFindingPayload");
}
async function findingStatus(id: string) {
  return (await api.request(FindingDocument, { id })).finding?.status;
}
async function resolve(input: { conflictId: string; winningFindingId?: string; dismiss?: boolean; notes: string }, client = api) {
  return (await client.request(ResolveConflictDocument, { input })).resolveConflict;
}

describe("seed 000: conflict detection and resolution", () => {
  it("two findings at 0.92 and 0.57 on one subject: one conflict (delta 0.35, escalate), both DISPUTED; a winner resolves it", async () => {
    const task = expectType((await api.request(CreateTaskDocument, { input: { description: "compare redis persistence", type: "research" } })).createTask, "CreateTaskPayload").task;
    const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "haiku-agent-1", type: "researcher" } })).registerAgent, "RegisterAgentPayload").agent;

    const first = await posted({
      claim: "Redis AOF persistence is required for durable queues",
      subject: "  Redis   PERSISTENCE ",
      position: " AOF ",
      confidence: 0.92,
      citations: ["if://citation/redis-perf-study-123", "https://redis.io/docs/management/persistence/", "file:/home/setup/research/redis.md:142"],
      tags: ["redis", "storage"],
      taskId: task.id,
      agentId: agent.id,
    });
    expect(first.conflicts).toEqual([]);
    expect(first.finding).toMatchObject({
      subject: "redis persistence",
      position: "aof",
      confidence: 0.92,
      status: "UNVERIFIED",
      postedBy: "researcher-1",
      tags: ["redis", "storage"],
      task: { id: task.id },
      agent: { id: agent.id },
      validation: null,
      retraction: null,
    });
    expect(first.finding.citations).toHaveLength(3);

    const second = await posted({ claim: "RDB snapshots are enough", subject: "redis persistence", position: "RDB", confidence: 0.57, citations: ["if://citation/redis-simplicity-guide-456"] });
    expect(second.finding.status).toBe("DISPUTED");
    expect(second.conflicts).toHaveLength(1);
    const conflict = second.conflicts[0]!;
    expect(conflict).toMatchObject({
      subject: "redis persistence",
      findingA: { id: first.finding.id, position: "aof", confidence: 0.92, status: "DISPUTED" },
      findingB: { id: second.finding.id, position: "rdb", confidence: 0.57, status: "DISPUTED" },
      confidenceDelta: 0.35,
      escalationRecommended: true,
      notes: REDIS_NOTES,
      status: "OPEN",
      winningFinding: null,
      resolution: null,
    });
    expect(await findingStatus(first.finding.id)).toBe("DISPUTED");

    const lead = server.client({ workspace: "findings-ws", subject: "lead-1", scopes: ["findings:write"] });
    const before = Date.now();
    const resolved = expectType(await resolve({ conflictId: conflict.id, winningFindingId: first.finding.id, notes: "queues need AOF durability" }, lead), "ResolveConflictPayload").conflict;
    expect(resolved).toMatchObject({ status: "RESOLVED", winningFinding: { id: first.finding.id }, resolution: { notes: "queues need AOF durability", resolvedBy: "lead-1", dismissed: false } });
    expect(Date.parse(resolved.resolution!.resolvedAt)).toBeGreaterThanOrEqual(before - 1000);

    const winner = (await api.request(FindingDocument, { id: first.finding.id })).finding!;
    expect(winner.status).toBe("VERIFIED");
    expect(winner.validation).toMatchObject({ verdict: "VERIFY", by: "lead-1" });
    expect(winner.validation!.reason).toContain("queues need AOF durability");
    expect(winner.conflicts).toEqual([{ id: conflict.id, status: "RESOLVED" }]);
    expect(await findingStatus(second.finding.id)).toBe("DISPUTED");

    // The seed's "conflict audit trail": the conflict's entries carry the figures.
    const trail = await api.request(AuditTrailDocument, { first: 10, filter: { domain: ["conflict"], entity: conflict.id } });
    expect(trail.auditTrail.edges.map((e) => e.node.action)).toEqual(["conflict.detected", "conflict.resolved"]);
    expect(trail.auditTrail.edges[0]!.node.details).toMatchObject({ confidenceDelta: 0.35, escalationRecommended: true, notes: REDIS_NOTES });
    expect(trail.auditTrail.edges[1]!.node).toMatchObject({ actor: "lead-1", entityGlobalId: conflict.id });
    const findingTrail = await api.request(AuditTrailDocument, { first: 10, filter: { entity: first.finding.id } });
    expect(findingTrail.auditTrail.edges.map((e) => e.node.action)).toEqual(["finding.posted", "finding.disputed", "finding.verified"]);
  });

  it("rejectOnConflict refuses the finding (kept REJECTED, its conflict recorded) and answers ConflictDetectedError with the same figures a stored conflict gets", async () => {
    const subject = "redis persistence (rejected)";
    const first = await posted({ subject, position: "aof", confidence: 0.92 });
    const rejected = expectType(await post({ subject, position: "rdb", confidence: 0.57, rejectOnConflict: true }), "ConflictDetectedError");
    expect(rejected).toMatchObject({
      code: "CONFLICT_DETECTED",
      subject,
      position: "rdb",
      confidence: 0.57,
      conflictingFindingIds: [first.finding.id],
      escalationRecommended: true,
    });
    expect(rejected.conflicts).toEqual([
      {
        findingId: first.finding.id,
        claim: first.finding.claim,
        position: "aof",
        confidence: 0.92,
        confidenceDelta: 0.35,
        escalationRecommended: true,
        notes: REDIS_NOTES.replace("redis persistence", subject),
      },
    ]);
    expect(rejected.message).toContain("refused");

    // Kept for the record (issue 17, test/findings.refused.test.ts): the REJECTED finding and its one conflict.
    expect((await api.request(FindingsDocument, { first: 10, filter: { subject } })).findings.totalCount).toBe(2);
    expect((await api.request(ConflictsDocument, { first: 10, filter: { subject } })).conflicts.totalCount).toBe(1);
    expect(await findingStatus(first.finding.id)).toBe("UNVERIFIED");
    const trail = await api.request(AuditTrailDocument, { first: 10, filter: { entity: first.finding.id } });
    expect(trail.auditTrail.edges.map((e) => e.node.action)).toEqual(["finding.posted"]);

    const stored = await posted({ subject, position: "rdb", confidence: 0.57 });
    const { confidenceDelta, escalationRecommended, notes } = stored.conflicts[0]!;
    expect({ confidenceDelta, escalationRecommended, notes }).toEqual({
      confidenceDelta: rejected.conflicts[0]!.confidenceDelta,
      escalationRecommended: rejected.conflicts[0]!.escalationRecommended,
      notes: rejected.conflicts[0]!.notes,
    });
  });
});

describe("detection and escalation rules", () => {
  it("the same position (after normalization) is agreement, not a conflict", async () => {
    const a = await posted({ subject: "Cache Eviction", position: "LRU", confidence: 0.9 });
    const b = await posted({ subject: "cache  eviction", position: "  lru ", confidence: 0.4 });
    expect(b.conflicts).toEqual([]);
    expect(b.finding.status).toBe("UNVERIFIED");
    expect(await findingStatus(a.finding.id)).toBe("UNVERIFIED");
  });

  it("a retracted finding does not conflict", async () => {
    const a = await posted({ subject: "queue backend", position: "kafka", confidence: 0.8 });
    expectType((await api.request(RetractFindingDocument, { id: a.finding.id, reason: "benchmark was wrong" })).retractFinding, "RetractFindingPayload");
    const b = await posted({ subject: "queue backend", position: "rabbitmq", confidence: 0.7 });
    expect(b.conflicts).toEqual([]);
    expect(b.finding.status).toBe("UNVERIFIED");
  });

  it("conflicts with every active finding of a different position, and only those", async () => {
    const subject = "primary datastore";
    const pg1 = await posted({ subject, position: "postgresql", confidence: 0.9 });
    const pg2 = await posted({ subject, position: "postgresql", confidence: 0.85 });
    const mongo = await posted({ subject, position: "mongodb", confidence: 0.6 });
    expect(mongo.conflicts.map((c) => c.findingA.id)).toEqual([pg1.finding.id, pg2.finding.id]);
    const third = await posted({ subject, position: "postgresql", confidence: 0.88 });
    expect(third.conflicts.map((c) => c.findingA.id)).toEqual([mongo.finding.id]);
    expect((await api.request(ConflictsDocument, { first: 10, filter: { subject } })).conflicts.totalCount).toBe(3);
  });

  it("escalates when both confidences are ≥ 0.80 even with a small delta; not when the delta is small and either is below 0.80", async () => {
    await posted({ subject: "orm choice", position: "prisma", confidence: 0.85 });
    const high = await posted({ subject: "orm choice", position: "drizzle", confidence: 0.8 });
    expect(high.conflicts[0]).toMatchObject({
      confidenceDelta: 0.05,
      escalationRecommended: true,
      notes: "positions differ on subject orm choice: 'prisma' (0.85) vs 'drizzle' (0.8); both confidences ≥ 0.80 → escalate",
    });

    await posted({ subject: "log format", position: "json", confidence: 0.6 });
    const low = await posted({ subject: "log format", position: "logfmt", confidence: 0.5 });
    expect(low.conflicts[0]).toMatchObject({
      confidenceDelta: 0.1,
      escalationRecommended: false,
      notes: "positions differ on subject log format: 'json' (0.6) vs 'logfmt' (0.5); delta 0.10 < 0.30 and not both ≥ 0.80 → no escalation",
    });

    // Exactly at the threshold (0.8 − 0.5 is 0.30000000000000004 in floating point, 0.7 − 0.4 is 0.29999999999999993).
    await posted({ subject: "threshold", position: "a", confidence: 0.7 });
    const edge = await posted({ subject: "threshold", position: "b", confidence: 0.4 });
    expect(edge.conflicts[0]).toMatchObject({ confidenceDelta: 0.3, escalationRecommended: true });
  });
});

describe("validation, retraction and resolution rules", () => {
  it("validates (VERIFY / DISPUTE) with who, why and when; retracts for good; refuses changes to a retracted finding", async () => {
    const reviewer = server.client({ workspace: "findings-ws", subject: "reviewer-7", scopes: ["findings:write"] });
    const f = await posted({ subject: "tls version", position: "1.3", confidence: 0.7 });
    const verified = expectType((await reviewer.request(ValidateFindingDocument, { id: f.finding.id, verdict: "VERIFY", reason: "matches RFC 8446" })).validateFinding, "ValidateFindingPayload").finding;
    expect(verified).toMatchObject({ status: "VERIFIED", validation: { verdict: "VERIFY", reason: "matches RFC 8446", by: "reviewer-7" } });
    const disputed = expectType((await reviewer.request(ValidateFindingDocument, { id: f.finding.id, verdict: "DISPUTE", reason: "older clients" })).validateFinding, "ValidateFindingPayload").finding;
    expect(disputed).toMatchObject({ status: "DISPUTED", validation: { verdict: "DISPUTE", reason: "older clients", by: "reviewer-7" } });

    const retracted = expectType((await reviewer.request(RetractFindingDocument, { id: f.finding.id, reason: "superseded" })).retractFinding, "RetractFindingPayload").finding;
    expect(retracted).toMatchObject({ status: "RETRACTED", retraction: { reason: "superseded", by: "reviewer-7" } });

    const again = expectType((await api.request(RetractFindingDocument, { id: f.finding.id, reason: "twice" })).retractFinding, "IllegalTransitionError");
    expect(again).toMatchObject({ entityType: "Finding", fromStatus: "RETRACTED", action: "retract", allowedFrom: ["UNVERIFIED", "VERIFIED", "DISPUTED"] });
    const late = expectType((await api.request(ValidateFindingDocument, { id: f.finding.id, verdict: "VERIFY", reason: "late" })).validateFinding, "IllegalTransitionError");
    expect(late).toMatchObject({ fromStatus: "RETRACTED", action: "validate" });
    expect(await findingStatus(f.finding.id)).toBe("RETRACTED");

    const trail = await api.request(AuditTrailDocument, { first: 10, filter: { entity: f.finding.id } });
    expect(trail.auditTrail.edges.map((e) => [e.node.action, e.node.actor])).toEqual([
      ["finding.posted", "researcher-1"],
      ["finding.validated", "reviewer-7"],
      ["finding.validated", "reviewer-7"],
      ["finding.retracted", "reviewer-7"],
    ]);

    const noReason = expectType((await api.request(ValidateFindingDocument, { id: f.finding.id, verdict: "VERIFY", reason: "  " })).validateFinding, "InvalidInputError");
    expect(noReason.issues).toEqual([{ path: "input.reason", message: "must not be empty" }]);
  });

  it("retracting a finding dismisses its open conflicts", async () => {
    const a = await posted({ subject: "message broker", position: "nats", confidence: 0.6 });
    const b = await posted({ subject: "message broker", position: "kafka", confidence: 0.65 });
    const conflictId = b.conflicts[0]!.id;
    expectType((await api.request(RetractFindingDocument, { id: b.finding.id, reason: "wrong cluster size" })).retractFinding, "RetractFindingPayload");
    const conflict = (await api.request(ConflictDocument, { id: conflictId })).conflict!;
    expect(conflict).toMatchObject({ status: "DISMISSED", winningFinding: null, resolution: { dismissed: true, resolvedBy: "researcher-1" } });
    expect(conflict.resolution!.notes).toContain("wrong cluster size");
    expect(await findingStatus(a.finding.id)).toBe("DISPUTED");
    expectType(await resolve({ conflictId, winningFindingId: a.finding.id, notes: "too late" }), "IllegalTransitionError");
  });

  it("dismisses a conflict without touching the findings; refuses to close a closed conflict, or a winner outside it", async () => {
    const a = await posted({ subject: "deploy target", position: "kubernetes", confidence: 0.7 });
    const b = await posted({ subject: "deploy target", position: "nomad", confidence: 0.6 });
    const outsider = await posted({ subject: "unrelated", position: "x", confidence: 0.5 });
    const conflictId = b.conflicts[0]!.id;

    const notInIt = expectType(await resolve({ conflictId, winningFindingId: outsider.finding.id, notes: "pick the outsider" }), "InvalidInputError");
    expect(notInIt.issues).toEqual([{ path: "input.winningFindingId", message: "must be one of the conflict's two findings (findingA or findingB)" }]);
    const wrongType = expectType(await resolve({ conflictId, winningFindingId: conflictId, notes: "a conflict is no finding" }), "InvalidInputError");
    expect(wrongType.issues.map((i) => i.path)).toEqual(["input.winningFindingId"]);
    const neither = expectType(await resolve({ conflictId, notes: "undecided" }), "InvalidInputError");
    expect(neither.issues).toEqual([{ path: "input.winningFindingId", message: "give either winningFindingId or dismiss: true (exactly one)" }]);
    const both = expectType(await resolve({ conflictId, winningFindingId: a.finding.id, dismiss: true, notes: "both" }), "InvalidInputError");
    expect(both.issues.map((i) => i.path)).toEqual(["input.winningFindingId"]);
    expect((await api.request(ConflictDocument, { id: conflictId })).conflict?.status).toBe("OPEN");

    const dismissed = expectType(await resolve({ conflictId, dismiss: true, notes: "different environments" }), "ResolveConflictPayload").conflict;
    expect(dismissed).toMatchObject({ status: "DISMISSED", winningFinding: null, resolution: { notes: "different environments", dismissed: true } });
    expect([await findingStatus(a.finding.id), await findingStatus(b.finding.id)]).toEqual(["DISPUTED", "DISPUTED"]);

    const redismiss = expectType(await resolve({ conflictId, dismiss: true, notes: "again" }), "IllegalTransitionError");
    expect(redismiss).toMatchObject({ entityType: "Conflict", fromStatus: "DISMISSED", action: "dismiss", allowedFrom: ["OPEN"] });

    const c = await posted({ subject: "deploy target", position: "ecs", confidence: 0.9 });
    const [withA] = c.conflicts;
    expectType(await resolve({ conflictId: withA!.id, winningFindingId: c.finding.id, notes: "managed wins" }), "ResolveConflictPayload");
    const reresolve = expectType(await resolve({ conflictId: withA!.id, winningFindingId: withA!.findingA.id, notes: "changed my mind" }), "IllegalTransitionError");
    expect(reresolve).toMatchObject({ fromStatus: "RESOLVED", action: "resolve" });
    expect(await findingStatus(c.finding.id)).toBe("VERIFIED");
  });
});

describe("bad input and tenancy", () => {
  it("refuses a confidence outside 0..1", async () => {
    for (const confidence of [-0.01, 1.01]) {
      const bad = expectType(await post({ subject: "bad", position: "x", confidence }), "InvalidInputError");
      expect(bad.issues).toEqual([{ path: "input.confidence", message: "must be between 0 and 1" }]);
    }
    expect((await api.request(FindingsDocument, { first: 1, filter: { subject: "bad" } })).findings.totalCount).toBe(0);
  });

  it("names every malformed citation, and empty or overlong subjects and positions", async () => {
    const citations = [
      "https://example.org/paper",
      "http://insecure.example.org",
      "file:/research/notes.md:0",
      "file:/research/notes.md",
      "if://",
      "ftp://example.org/x",
      "if://citation/ok-1",
      "file:/research/notes.md:12",
      "https://",
    ];
    const bad = expectType(await post({ subject: " ", position: "y".repeat(201), confidence: 0.5, citations }), "InvalidInputError");
    const rule = "must be an https:// URL, an if:// URI, or file:<path>:<line> with a positive line number";
    expect(bad.issues).toEqual(
      expect.arrayContaining([
        { path: "input.subject", message: "must not be empty" },
        { path: "input.position", message: "must be at most 200 characters" },
        ...[1, 2, 3, 4, 5, 8].map((i) => ({ path: `input.citations.${i}`, message: rule })),
      ]),
    );
    expect(bad.issues).toHaveLength(8);
  });

  it("treats unknown and other-workspace ids as not found", async () => {
    const other = server.client({ workspace: "findings-other-ws" });
    const foreignTask = expectType((await other.request(CreateTaskDocument, { input: { description: "theirs", type: "research" } })).createTask, "CreateTaskPayload").task;
    const theirs = await posted({ subject: "private", position: "a", confidence: 0.9 }, other);
    const theirConflict = (await posted({ subject: "private", position: "b", confidence: 0.1 }, other)).conflicts[0]!;

    const withForeignTask = expectType(await post({ subject: "mine", position: "a", confidence: 0.5, taskId: foreignTask.id }), "NotFoundError");
    expect(withForeignTask).toMatchObject({ entityType: "Task", entityId: foreignTask.id });
    const wrongType = expectType(await post({ subject: "mine", position: "a", confidence: 0.5, swarmId: foreignTask.id }), "NotFoundError");
    expect(wrongType.entityType).toBe("Swarm");
    expect((await api.request(FindingsDocument, { first: 1, filter: { subject: "mine" } })).findings.totalCount).toBe(0);

    expect(expectType((await api.request(ValidateFindingDocument, { id: theirs.finding.id, verdict: "DISPUTE", reason: "x" })).validateFinding, "NotFoundError")).toMatchObject({ entityType: "Finding", entityId: theirs.finding.id });
    expectType((await api.request(RetractFindingDocument, { id: theirs.finding.id, reason: "x" })).retractFinding, "NotFoundError");
    expect(expectType(await resolve({ conflictId: theirConflict.id, dismiss: true, notes: "x" }), "NotFoundError").entityType).toBe("Conflict");
    expect((await api.request(FindingDocument, { id: theirs.finding.id })).finding).toBeNull();
    expect((await api.request(ConflictDocument, { id: theirConflict.id })).conflict).toBeNull();
    expect((await other.request(FindingDocument, { id: theirs.finding.id })).finding?.status).toBe("DISPUTED");
    expect((await other.request(ConflictDocument, { id: theirConflict.id })).conflict?.status).toBe("OPEN");
  });

  it("needs findings:read to read and findings:write to post", async () => {
    const reader = server.client({ workspace: "findings-ws", scopes: ["findings:read"] });
    const refused = await reader.raw(PostFindingDocument, { input: { claim: "c", subject: "s", position: "p", confidence: 0.5 } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["findings:write"] });
    const tasksOnly = server.client({ workspace: "findings-ws", scopes: ["tasks:read"] });
    const hidden = await tasksOnly.raw(FindingsDocument, { first: 1 });
    expect(hidden.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["findings:read"] });
    expect((await reader.request(FindingsDocument, { first: 1 })).findings.totalCount).toBeGreaterThan(0);
  });
});

describe("queries", () => {
  let q: GraphQLClient;
  const ids: Record<string, string> = {};
  let swarmId: string;
  let taskId: string;
  let agentId: string;

  beforeAll(async () => {
    q = server.client({ workspace: "findings-query-ws", subject: "querier" });
    swarmId = expectType((await q.request(CreateSwarmDocument, { input: { name: "research", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
    taskId = expectType((await q.request(CreateTaskDocument, { input: { description: "index study", type: "research" } })).createTask, "CreateTaskPayload").task.id;
    agentId = expectType((await q.request(RegisterAgentDocument, { input: { name: "indexer", type: "researcher" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const inputs: [string, Parameters<typeof post>[0]][] = [
      ["brin", { claim: "PostgreSQL BRIN indexing provides 100x compression vs B-tree for large sequential scans", subject: "pg index", position: "brin", confidence: 0.87, tags: ["postgres", "indexing"], taskId, agentId, swarmId }],
      ["btree", { claim: "B-tree indexes are the safe default for OLTP lookups", subject: "pg index", position: "btree", confidence: 0.6, tags: ["postgres"], swarmId }],
      ["redis", { claim: "Redis Cluster is optimal for more than 50M keys with 3-node replication", subject: "redis topology", position: "cluster", confidence: 0.92, tags: ["redis"] }],
      ["single", { claim: "A single Redis instance is sufficient for workloads under 100M keys", subject: "redis topology", position: "single", confidence: 0.3, tags: ["redis"] }],
    ];
    for (const [name, input] of inputs) ids[name] = (await posted(input, q)).finding.id;
    await q.request(ValidateFindingDocument, { id: ids.redis!, verdict: "VERIFY", reason: "benchmarked" });
  });

  const names = async (filter: Record<string, unknown>) => {
    const page = await q.request(FindingsDocument, { first: 50, filter });
    expect(page.findings.totalCount).toBe(page.findings.edges.length);
    return page.findings.edges.map((e) => Object.entries(ids).find(([, id]) => id === e.node.id)?.[0]).sort();
  };

  it("filters findings by subject, task, agent, swarm, tag, confidence and status", async () => {
    expect(await names({})).toEqual(["brin", "btree", "redis", "single"]);
    expect(await names({ subject: "  PG   Index" })).toEqual(["brin", "btree"]);
    expect(await names({ task: taskId })).toEqual(["brin"]);
    expect(await names({ agent: agentId })).toEqual(["brin"]);
    expect(await names({ swarm: swarmId })).toEqual(["brin", "btree"]);
    expect(await names({ swarm: taskId })).toEqual([]);
    expect(await names({ tag: "redis" })).toEqual(["redis", "single"]);
    expect(await names({ minConfidence: 0.87 })).toEqual(["brin", "redis"]);
    expect(await names({ status: ["VERIFIED"] })).toEqual(["redis"]);
    expect(await names({ status: ["DISPUTED"], tag: "postgres" })).toEqual(["brin", "btree"]);
  });

  it("searches claims with PostgreSQL full-text search (stemming, phrases, exclusion), within the workspace only", async () => {
    expect(await names({ text: "indexes" })).toEqual(["brin", "btree"]); // "indexing" and "indexes" share the stem
    expect(await names({ text: '"sequential scans"' })).toEqual(["brin"]);
    expect(await names({ text: "redis -cluster" })).toEqual(["single"]);
    expect(await names({ text: "redis or compression" })).toEqual(["brin", "redis", "single"]);
    expect(await names({ text: "redis", minConfidence: 0.5 })).toEqual(["redis"]);
    expect(await names({ text: "kubernetes" })).toEqual([]);
    // The other workspaces of this server have Redis findings too; none leak in.
    expect((await api.request(FindingsDocument, { first: 50, filter: { text: "single redis instance" } })).findings.totalCount).toBe(0);
  });

  it("pages findings newest first with cursors", async () => {
    const first = await q.request(FindingsDocument, { first: 3 });
    expect(first.findings.pageInfo.hasNextPage).toBe(true);
    const rest = await q.request(FindingsDocument, { first: 3, after: first.findings.pageInfo.endCursor });
    expect(rest.findings.pageInfo.hasNextPage).toBe(false);
    expect([...first.findings.edges, ...rest.findings.edges].map((e) => e.node.id)).toEqual([ids.single, ids.redis, ids.btree, ids.brin]);
  });

  it("filters conflicts by status, subject, swarm and escalation", async () => {
    const conflicts = async (filter: Record<string, unknown>) => (await q.request(ConflictsDocument, { first: 10, filter })).conflicts.edges.map((e) => e.node.subject).sort();
    expect(await conflicts({})).toEqual(["pg index", "redis topology"]);
    expect(await conflicts({ subject: "Redis Topology" })).toEqual(["redis topology"]);
    expect(await conflicts({ swarm: swarmId })).toEqual(["pg index"]);
    expect(await conflicts({ escalationRecommended: true })).toEqual(["redis topology"]); // delta 0.62
    expect(await conflicts({ escalationRecommended: false })).toEqual(["pg index"]); // delta 0.27, 0.6 < 0.8
    expect(await conflicts({ status: ["RESOLVED", "DISMISSED"] })).toEqual([]);
    expect(await conflicts({ status: ["OPEN"] })).toEqual(["pg index", "redis topology"]);
  });
});

describe("audit trail", () => {
  let w: GraphQLClient;
  let agentId: string;
  let findingId: string;

  beforeAll(async () => {
    w = server.client({ workspace: "audit-ws", subject: "operator" });
    agentId = expectType((await w.request(RegisterAgentDocument, { input: { name: "audited", type: "coder" } })).registerAgent, "RegisterAgentPayload").agent.id;
    await w.request(PauseAgentDocument, { id: agentId });
    const researcher = server.client({ workspace: "audit-ws", subject: "researcher", scopes: ["findings:write"] });
    findingId = (await posted({ subject: "audit subject", position: "a", confidence: 0.9 }, researcher)).finding.id;
    await posted({ subject: "audit subject", position: "b", confidence: 0.2 }, researcher);
  });

  const actions = async (client: GraphQLClient, filter?: Record<string, unknown>) =>
    (await client.request(AuditTrailDocument, { first: 50, filter })).auditTrail.edges.map((e) => `${e.node.domain}:${e.node.action}`);

  it("lists every change of the workspace, oldest first, filtered by domain, entity, actor and time", async () => {
    expect(await actions(w)).toEqual([
      "quota:quota.allocated", // registering an agent takes a place in the `agents` quota
      "agent:agent.registered",
      "agent:agent.paused",
      "finding:finding.posted",
      "finding:finding.posted",
      "conflict:conflict.detected",
      "finding:finding.disputed",
    ]);
    expect(await actions(w, { domain: ["agent"] })).toEqual(["agent:agent.registered", "agent:agent.paused"]);
    expect(await actions(w, { domain: ["conflict", "agent"] })).toEqual(["agent:agent.registered", "agent:agent.paused", "conflict:conflict.detected"]);
    expect(await actions(w, { entity: agentId })).toEqual(["agent:agent.registered", "agent:agent.paused"]);
    expect(await actions(w, { entity: findingId })).toEqual(["finding:finding.posted", "finding:finding.disputed"]);
    expect(await actions(w, { actor: "researcher", domain: ["agent"] })).toEqual([]);
    expect((await actions(w, { actor: "researcher" })).length).toBe(4);

    const all = (await w.request(AuditTrailDocument, { first: 50 })).auditTrail.edges.map((e) => e.node);
    const paused = all[2]!;
    expect(paused).toMatchObject({ action: "agent.paused", domain: "agent", actor: "operator", entityGlobalId: agentId, details: { from: "IDLE", to: "PAUSED" } });
    expect(BigInt(all[2]!.id)).toBeGreaterThan(BigInt(all[1]!.id));
    const lastAt = all.at(-1)!.at;
    expect(await actions(w, { from: lastAt })).toContain("finding:finding.disputed");
    expect(await actions(w, { to: all[0]!.at })).toEqual([]);
    expect(await actions(w, { from: all[0]!.at, to: new Date(Date.parse(lastAt) + 1).toISOString() })).toHaveLength(7);
    expect(await actions(w, { to: new Date(Date.parse(all[0]!.at) - 60_000).toISOString() })).toEqual([]);
  });

  it("pages with stable cursors, forwards and from the end", async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    for (;;) {
      const page = (await w.request(AuditTrailDocument, { first: 4, after })).auditTrail;
      expect(page.totalCount).toBe(7);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    expect(seen.map(BigInt)).toEqual([...seen.map(BigInt)].sort((a, b) => (a < b ? -1 : 1)));
    const tail = (await w.request(AuditTrailDocument, { last: 2 })).auditTrail;
    expect(tail.edges.map((e) => e.node.id)).toEqual(seen.slice(-2));
  });

  it("needs the read scope of every requested domain; without a domain filter shows only the readable domains", async () => {
    const findingsReader = server.client({ workspace: "audit-ws", scopes: ["findings:read"] });
    const agentAsked = await findingsReader.raw(AuditTrailDocument, { first: 10, filter: { domain: ["agent"] } });
    expect(agentAsked.status).toBe(403);
    expect(agentAsked.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["agents:read"] });
    expect(agentAsked.errors?.[0]?.message).toContain("agents:read");
    const mixed = await findingsReader.raw(AuditTrailDocument, { first: 10, filter: { domain: ["finding", "agent"] } });
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["agents:read"] });

    expect(await actions(findingsReader)).toEqual(["finding:finding.posted", "finding:finding.posted", "conflict:conflict.detected", "finding:finding.disputed"]);
    expect(await actions(findingsReader, { entity: agentId })).toEqual([]);
    expect(await actions(findingsReader, { domain: ["conflict"] })).toEqual(["conflict:conflict.detected"]);

    const agentsReader = server.client({ workspace: "audit-ws", scopes: ["agents:read", "findings:read"] });
    expect(await actions(agentsReader, { domain: ["finding", "agent"] })).toHaveLength(5);

    expect(await actions(server.client({ workspace: "audit-ws", scopes: ["quotas:read"] }))).toEqual(["quota:quota.allocated"]);
    const noDomain = await server.client({ workspace: "audit-ws", scopes: ["artifacts:read"] }).raw(AuditTrailDocument, { first: 10 });
    expect(noDomain.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
    expect(noDomain.errors?.[0]?.extensions?.requiredScopes).toEqual(expect.arrayContaining(["agents:read", "findings:read"]));

    const unknown = await w.raw(AuditTrailDocument, { first: 10, filter: { domain: ["agent", "invoices"] } });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(unknown.errors?.[0]?.message).toContain('"invoices"');

    // Another workspace sees none of these entries.
    expect(await actions(server.client({ workspace: "audit-empty-ws" }))).toEqual([]);
  });
});
