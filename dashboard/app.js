// The operator dashboard: sign in with a token, then every panel live. Preact + htm, loaded as
// plain ES modules from this server (no build step, no CDN).
import { html, render, useCallback, useEffect, useMemo, useRef, useState } from "/vendor/preact-htm.js";
import { ApiError, MINT_HINT, createSession, forgetToken, savedToken, saveToken } from "./api.js";
import { ThroughputChart, Throughput } from "./chart.js";
import { compareCursors, startLive } from "./live.js";
import { dateTime } from "./format.js";
import { AgentsPanel, ConflictsPanel, FeedPanel, QuotasPanel, SwarmsPanel, TasksPanel, TimelinePanel } from "./panels.js";
import { LOG_HEAD, RECENT_EVENTS, THROUGHPUT, VIEWER } from "./queries.js";

const FEED_LENGTH = 300;
/** Heartbeat metrics arrive with every heartbeat: they refresh the agents panel but would drown the feed. */
const QUIET_TYPES = new Set(["agent.metrics"]);

function SignIn({ problem, onSignIn }) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    await onSignIn(token.trim().replace(/^Bearer\s+/i, ""));
    setBusy(false);
  };
  return html`<form class="signin" onSubmit=${submit}>
    <h1>swarmgraph</h1>
    <p>Paste an access token to watch your swarms live.</p>
    <label for="token">Access token</label>
    <textarea id="token" rows="4" autocomplete="off" spellcheck="false" placeholder="eyJhbGciOi…" value=${token} onInput=${(e) => setToken(e.currentTarget.value)}></textarea>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
    <button type="submit" disabled=${busy || !token.trim()}>Sign in</button>
    <p class="muted small">
      The first <code>npm start</code> printed an admin token. Mint another with <code>${MINT_HINT}</code>.
      The token stays in this browser tab only (session storage) and is gone when you close it.
      GraphiQL is at <a href="/graphql">/graphql</a>.
    </p>
  </form>`;
}

function Dashboard({ session, viewer, onSignOut, onAuthLost }) {
  const [status, setStatus] = useState("connecting");
  const [feed, setFeed] = useState([]);
  const [versions, setVersions] = useState({ task: 0, agent: 0, conflict: 0, finding: 0, quota: 0, reconnect: 0 });
  const [streamErrors, setStreamErrors] = useState({});
  const [selectedTask, setSelectedTask] = useState(null);
  const [ready, setReady] = useState(false);
  const throughput = useMemo(() => new Throughput(), []);
  const [throughputVersion, setThroughputVersion] = useState(0);
  const seen = useRef(new Set());

  useEffect(() => {
    let live;
    let stopped = false;
    let wasLive = false;
    const addToFeed = (events) => {
      const fresh = [];
      for (const event of events) {
        if (seen.current.has(event.cursor)) continue;
        seen.current.add(event.cursor);
        if (!QUIET_TYPES.has(event.type)) fresh.push(event);
      }
      if (fresh.length === 0) return;
      setFeed((feed) => [...fresh, ...feed].sort((a, b) => compareCursors(b.cursor, a.cursor)).slice(0, FEED_LENGTH));
    };
    const countOutcome = (taskId, type, status, at) => {
      const outcome = type === "task.completed" ? "completed" : type === "task.failed" && status === "FAILED" ? "failed" : null;
      if (outcome && throughput.add(taskId, outcome, at)) setThroughputVersion((v) => v + 1);
    };
    (async () => {
      // Live events continue after the log's head, read before any panel's first query (the
      // panels mount once `head` is known), so nothing in between is lost; the feed opens with
      // recent history up to it.
      let head = null;
      try {
        const recent = await session.request(RECENT_EVENTS);
        head = recent.eventLogHead;
        addToFeed(recent.auditTrail.edges.map(({ node }) => ({ ...node.details, cursor: node.id, type: node.action, at: node.at, actor: node.actor, entityId: node.entityId })));
      } catch (error) {
        if (error.kind === "auth") return onAuthLost(error);
        // Without a read scope for the history: live events only.
        setStreamErrors((e) => ({ ...e, history: error }));
        head = await session.request(LOG_HEAD).then((d) => d.eventLogHead, () => null);
      }
      if (stopped) return;
      setReady(true);
      try {
        const done = await session.request(THROUGHPUT);
        for (const { node } of done.completed.edges) countOutcome(node.id, "task.completed", "COMPLETED", node.completedAt);
        for (const { node } of done.failed.edges) countOutcome(node.id, "task.failed", "FAILED", node.failedAt);
      } catch (error) {
        if (error.kind === "auth") return onAuthLost(error);
      }
      if (stopped) return;
      live = startLive(session, head, {
        onEvent: (topic, event) => {
          addToFeed([event]);
          if (topic === "task") countOutcome(event.taskId, event.type, event.status, event.at);
          setVersions((v) => ({ ...v, [topic]: v[topic] + 1 }));
        },
        onStatus: (next) => {
          setStatus(next);
          if (next !== "live") return;
          // Back after a disconnect: the streams replay what was missed, and every panel reloads.
          if (wasLive) setVersions((v) => ({ ...v, reconnect: v.reconnect + 1 }));
          wasLive = true;
        },
        onAccessLost: onAuthLost,
        onStreamError: (topic, error) => setStreamErrors((e) => ({ ...e, [topic]: error })),
      });
    })();
    return () => {
      stopped = true;
      live?.stop();
    };
  }, [session]);

  const v = versions;
  const common = { session, onAuthLost };
  const refusedStreams = Object.entries(streamErrors);
  return html`<div class="dashboard">
    <header class="top">
      <h1>swarmgraph</h1>
      <span class=${`status ${status}`} data-status=${status} title="live connection">${status}</span>
      <span class="spacer"></span>
      <span class="who">${viewer.subject} @ <strong>${viewer.workspaceId}</strong> <span class="muted small">token valid until ${dateTime(viewer.expiresAt)}</span></span>
      <a href="/graphql" class="link">GraphiQL</a>
      <button class="secondary" onClick=${onSignOut}>Sign out</button>
    </header>
    ${refusedStreams.length > 0 && html`<div class="notice" role="status">${refusedStreams.map(([topic, error]) => html`<p key=${topic}>${topic === "history" ? "Recent history" : `Live ${topic} events`}: ${error.message}</p>`)}</div>`}
    ${!ready && html`<p class="boot">Connecting…</p>`}
    ${ready && html`<div class="grid">
      <${SwarmsPanel} ...${common} refreshKey=${v.task + v.agent + v.reconnect} />
      <${AgentsPanel} ...${common} refreshKey=${v.agent + v.task + v.reconnect} />
      <${FeedPanel} feed=${feed} status=${status} />
      <section class="panel" id="throughput"><header><h2>Throughput</h2><span class="muted small">tasks per minute</span></header><${ThroughputChart} throughput=${throughput} version=${throughputVersion} /></section>
      <${QuotasPanel} ...${common} refreshKey=${v.quota + v.task + v.agent + v.reconnect} />
      <${TasksPanel} ...${common} refreshKey=${v.task + v.reconnect} selected=${selectedTask} onSelect=${setSelectedTask} />
      ${selectedTask && html`<${TimelinePanel} ...${common} taskId=${selectedTask} refreshKey=${v.task + v.reconnect} onClose=${() => setSelectedTask(null)} />`}
      <${ConflictsPanel} ...${common} refreshKey=${v.conflict + v.finding + v.reconnect} />
    </div>`}
  </div>`;
}

function App() {
  const [session, setSession] = useState(null);
  const [viewer, setViewer] = useState(null);
  const [problem, setProblem] = useState(null);
  const [checking, setChecking] = useState(Boolean(savedToken()));

  const signIn = useCallback(async (token) => {
    const candidate = createSession(token);
    try {
      const { viewer } = await candidate.request(VIEWER);
      saveToken(token);
      setProblem(null);
      setViewer(viewer);
      setSession(candidate);
    } catch (error) {
      forgetToken();
      setProblem(error instanceof ApiError ? error.message : String(error));
    } finally {
      setChecking(false);
    }
  }, []);

  const signOut = useCallback((problem) => {
    forgetToken();
    setSession(null);
    setViewer(null);
    setProblem(typeof problem === "string" ? problem : null);
  }, []);

  const authLost = useCallback((error) => signOut(error.message), [signOut]);

  useEffect(() => {
    const token = savedToken();
    if (token) void signIn(token);
  }, []);

  if (checking) return html`<p class="boot">Checking your token…</p>`;
  if (!session) return html`<${SignIn} problem=${problem} onSignIn=${signIn} />`;
  return html`<${Dashboard} session=${session} viewer=${viewer} onSignOut=${() => signOut()} onAuthLost=${authLost} />`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
