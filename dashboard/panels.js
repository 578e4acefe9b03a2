// The dashboard's panels. Each fetches what it shows with its own query and fetches again when
// the live events it depends on arrive (`refreshKey`).
import { html, useMemo, useState } from "/vendor/preact-htm.js";
import { useNow, useQuery } from "./hooks.js";
import { age, dateTime, describeEvent, json, percent, time } from "./format.js";
import { AGENTS, CONFLICTS, QUOTAS, RESOLVE_CONFLICT, SWARMS, TASK_COUNTS, TASK_STATUSES, TASK_TIMELINE, TASKS } from "./queries.js";

const nodes = (connection) => connection?.edges.map((e) => e.node) ?? [];

function Panel({ title, id, wide, error, children, aside }) {
  return html`<section class=${`panel${wide ? " wide" : ""}`} id=${id} aria-labelledby=${`${id}-title`}>
    <header><h2 id=${`${id}-title`}>${title}</h2>${aside}</header>
    ${error && html`<p class="error" role="alert">${error.message}</p>`}
    ${children}
  </section>`;
}

function Badge({ value }) {
  return html`<span class=${`badge ${String(value).toLowerCase()}`}>${value}</span>`;
}

function ProgressBar({ value, label }) {
  const pct = Math.round((value ?? 0) * 100);
  return html`<div class="progress" role="progressbar" aria-label=${label} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct}>
    <div class="fill" style=${{ width: `${pct}%` }}></div><span>${pct}%</span>
  </div>`;
}

export function SwarmsPanel({ session, refreshKey, onAuthLost }) {
  const { data, error } = useQuery(session, SWARMS, undefined, refreshKey, onAuthLost);
  const swarms = nodes(data?.swarms);
  return html`<${Panel} title="Swarms" id="swarms" wide error=${error} aside=${data && html`<span class="muted">${data.swarms.totalCount} active or paused</span>`}>
    ${data && swarms.length === 0 && html`<p class="muted">No swarms yet: <code>createSwarm</code> in GraphiQL creates one.</p>`}
    <div class="cards">
      ${swarms.map(
        (s) => html`<article class="card swarm" key=${s.id} data-swarm=${s.name}>
          <h3>${s.name} <${Badge} value=${s.status} /> <span class="muted">${s.topology}</span></h3>
          <p class="objective">${s.objective}</p>
          <${ProgressBar} value=${s.taskSummary.progress} label=${`progress of ${s.name}`} />
          <p class="muted small">${s.taskSummary.total} tasks · ${s.taskSummary.byStatus.filter((b) => b.count > 0).map((b) => `${b.count} ${b.status.toLowerCase()}`).join(", ") || "none yet"}</p>
          <p class="members small">
            ${s.members.length === 0 ? html`<span class="muted">no members${s.maxAgents ? ` (room for ${s.maxAgents})` : ""}</span>` : s.members.map((m) => html`<span class="member" key=${m.agent.id}><${Badge} value=${m.role} /> ${m.agent.name} <span class="muted">${m.agent.status.toLowerCase()}</span></span>`)}
          </p>
        </article>`,
      )}
    </div>
  <//>`;
}

export function AgentsPanel({ session, refreshKey, onAuthLost }) {
  const { data, error } = useQuery(session, AGENTS, undefined, refreshKey, onAuthLost);
  const fetchedAt = useMemo(() => Date.now(), [data]);
  const now = useNow(1000);
  const workingOn = useMemo(() => {
    const byAgent = new Map();
    for (const t of nodes(data?.busy)) if (t.assignee) byAgent.set(t.assignee.id, [...(byAgent.get(t.assignee.id) ?? []), t]);
    return byAgent;
  }, [data]);
  const agents = nodes(data?.agents);
  return html`<${Panel} title="Agents" id="agents" error=${error} aside=${data && html`<span class="muted">${data.agents.totalCount} not terminated</span>`}>
    ${data && agents.length === 0 && html`<p class="muted">No agents yet. Start one: <code>npm run worker -- --token $TOKEN</code></p>`}
    ${agents.length > 0 &&
    html`<table>
      <thead><tr><th>agent</th><th>status</th><th>health</th><th>heartbeat</th><th>working on</th></tr></thead>
      <tbody>
        ${agents.map(
          (a) => html`<tr key=${a.id} data-agent=${a.name}>
            <td><strong>${a.name}</strong><br /><span class="muted small">${a.type}${a.capabilities.length ? ` · ${a.capabilities.join(", ")}` : ""}</span></td>
            <td><${Badge} value=${a.status} /></td>
            <td><${Badge} value=${a.health.status} /></td>
            <td class="muted">${age(a.health.secondsSinceLastSeen + (now - fetchedAt) / 1000)} ago</td>
            <td>${(workingOn.get(a.id) ?? []).map((t) => html`<div key=${t.id} class="small">${t.description} <span class="muted">${t.status.toLowerCase()} ${percent(t.progress)}</span></div>`)}</td>
          </tr>`,
        )}
      </tbody>
    </table>`}
  <//>`;
}

export function TasksPanel({ session, refreshKey, onAuthLost, selected, onSelect }) {
  const [status, setStatus] = useState(null);
  const [text, setText] = useState("");
  const counts = useQuery(session, TASK_COUNTS, undefined, refreshKey, onAuthLost);
  const list = useQuery(session, TASKS, { filter: status ? { status: [status] } : {} }, refreshKey, onAuthLost);
  const needle = text.trim().toLowerCase();
  const tasks = nodes(list.data?.tasks).filter((t) => !needle || `${t.description} ${t.type} ${t.assignee?.name ?? ""} ${t.swarm?.name ?? ""}`.toLowerCase().includes(needle));
  return html`<${Panel} title="Tasks" id="tasks" wide error=${counts.error ?? list.error}>
    <div class="chips" role="group" aria-label="filter by status">
      <button class=${status === null ? "chip on" : "chip"} onClick=${() => setStatus(null)}>all</button>
      ${TASK_STATUSES.map(
        (s) => html`<button key=${s} class=${status === s ? "chip on" : "chip"} data-status=${s} onClick=${() => setStatus(status === s ? null : s)}>
          ${s.toLowerCase()} <strong data-count=${s}>${counts.data?.[s]?.totalCount ?? "…"}</strong>
        </button>`,
      )}
      <input type="search" placeholder="filter by description, type, agent, swarm" aria-label="filter tasks" value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
    </div>
    <table class="tasks">
      <thead><tr><th>task</th><th>status</th><th>progress</th><th>agent</th><th>swarm</th><th>updated</th></tr></thead>
      <tbody>
        ${tasks.map(
          (t) => html`<tr key=${t.id} class=${t.id === selected ? "selected clickable" : "clickable"} onClick=${() => onSelect(t.id)} data-task=${t.description}>
            <td>${t.description}<br /><span class="muted small">${t.type} · ${t.priority.toLowerCase()}</span></td>
            <td><${Badge} value=${t.status} /></td>
            <td>${percent(t.progress)}</td>
            <td>${t.assignee?.name ?? html`<span class="muted">—</span>`}</td>
            <td>${t.swarm?.name ?? html`<span class="muted">—</span>`}</td>
            <td class="muted">${time(t.updatedAt)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${list.data && html`<p class="muted small">${tasks.length} shown of ${list.data.tasks.totalCount}${status ? ` ${status.toLowerCase()}` : ""} (newest 50 changes; click a task for its timeline)</p>`}
  <//>`;
}

export function TimelinePanel({ session, taskId, refreshKey, onAuthLost, onClose }) {
  const { data, error } = useQuery(session, TASK_TIMELINE, { id: taskId }, refreshKey, onAuthLost);
  const task = data?.task;
  const steps = useMemo(() => {
    if (!data) return [];
    return nodes(data.auditTrail).map((e) => ({ key: e.id, at: e.at, action: e.action, actor: e.actor, details: e.details }));
  }, [data]);
  return html`<${Panel} title="Task timeline" id="timeline" wide error=${error} aside=${html`<button class="link" onClick=${onClose}>close</button>`}>
    ${data && !task && html`<p class="muted">That task no longer exists.</p>`}
    ${task &&
    html`<div class="timeline">
      <div>
        <h3>${task.description} <${Badge} value=${task.status} /></h3>
        <p class="muted small">${task.type} · attempt ${task.attemptCount} of ${task.maxAttempts} · created ${dateTime(task.createdAt)}</p>
        <${ProgressBar} value=${task.progress} label="task progress" />
        <h4>Attempts</h4>
        ${task.attempts.length === 0 ? html`<p class="muted">not claimed yet</p>` : html`<ol class="attempts">${task.attempts.map((a) => html`<li key=${a.fence}>${a.agent.name}: claimed ${time(a.claimedAt)}${a.endedAt ? `, ended ${time(a.endedAt)}` : ", running"} ${a.outcome && html`<${Badge} value=${a.outcome} />`}${a.error && html`<pre>${json(a.error)}</pre>`}</li>`)}</ol>`}
        ${task.partialResult != null && html`<h4>Partial result</h4><pre>${json(task.partialResult)}</pre>`}
        ${task.result != null && html`<h4>Result</h4><pre class="ok">${json(task.result)}</pre>`}
        ${task.error != null && html`<h4>Error</h4><pre class="bad">${json(task.error)}</pre>`}
        ${task.cancelReason && html`<h4>Cancelled</h4><p>${task.cancelReason}</p>`}
      </div>
      <ol class="steps">
        ${steps.map((s) => html`<li key=${s.key}><span class="muted">${time(s.at)}</span> <strong>${s.action}</strong> <span class="muted">${s.actor ?? ""}</span>${s.action === "task.progress" && s.details?.progress != null ? ` ${percent(s.details.progress)}` : ""}</li>`)}
      </ol>
    </div>`}
  <//>`;
}

export function FeedPanel({ feed, status }) {
  return html`<${Panel} title="Live events" id="feed" aside=${html`<span class=${`status ${status}`}>${status}</span>`}>
    <ol class="feed" aria-live="polite">
      ${feed.map(
        (e) => html`<li key=${e.cursor} data-cursor=${e.cursor} data-type=${e.type}>
          <span class="muted">${time(e.at)}</span> <span class=${`type t-${e.type.split(".")[0]}`}>${e.type}</span> ${describeEvent(e)} <span class="muted small">${e.actor ?? ""}</span>
        </li>`,
      )}
    </ol>
    ${feed.length === 0 && html`<p class="muted">Waiting for events…</p>`}
  <//>`;
}

function ConflictCard({ conflict, session, onResolved, onAuthLost }) {
  const [notes, setNotes] = useState("");
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const decide = async (winner) => {
    if (!notes.trim()) {
      setProblem("Say why in the notes first: the decision is kept in the audit trail.");
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const input = { conflictId: conflict.id, notes: notes.trim(), ...(winner ? { winningFindingId: winner } : { dismiss: true }) };
      const { resolveConflict: result } = await session.request(RESOLVE_CONFLICT, { input });
      if (result.__typename === "ResolveConflictPayload") onResolved();
      else setProblem(result.issues?.length ? result.issues.map((i) => i.message).join("; ") : result.message);
    } catch (error) {
      if (error.kind === "auth") onAuthLost(error);
      setProblem(error.message);
    } finally {
      setBusy(false);
    }
  };
  const finding = (f, label) => html`<div class="finding"><h4>${label} · ${percent(f.confidence)} confident · ${f.postedBy}</h4><p>${f.claim}</p><p class="muted small">position: ${f.position}</p></div>`;
  return html`<article class="card conflict" data-conflict=${conflict.subject}>
    <h3>${conflict.subject} ${conflict.escalationRecommended && html`<span class="badge failed">escalate</span>`} <span class="muted small">Δ confidence ${percent(conflict.confidenceDelta)}</span></h3>
    <div class="findings">${finding(conflict.findingA, "A")}${finding(conflict.findingB, "B")}</div>
    <input type="text" placeholder="notes: why this decision" aria-label=${`notes for ${conflict.subject}`} value=${notes} onInput=${(e) => setNotes(e.currentTarget.value)} />
    <div class="actions">
      <button disabled=${busy} onClick=${() => decide(conflict.findingA.id)}>A holds</button>
      <button disabled=${busy} onClick=${() => decide(conflict.findingB.id)}>B holds</button>
      <button disabled=${busy} class="secondary" onClick=${() => decide(null)}>dismiss</button>
    </div>
    ${problem && html`<p class="error" role="alert">${problem}</p>`}
  </article>`;
}

export function ConflictsPanel({ session, refreshKey, onAuthLost }) {
  const [resolved, setResolved] = useState(0);
  const { data, error } = useQuery(session, CONFLICTS, undefined, `${refreshKey}/${resolved}`, onAuthLost);
  const conflicts = nodes(data?.conflicts);
  return html`<${Panel} title="Open conflicts" id="conflicts" wide error=${error} aside=${data && html`<span class="muted">${data.conflicts.totalCount} open</span>`}>
    ${data && conflicts.length === 0 && html`<p class="muted">No open conflicts: the findings agree.</p>`}
    ${conflicts.map((c) => html`<${ConflictCard} key=${c.id} conflict=${c} session=${session} onAuthLost=${onAuthLost} onResolved=${() => setResolved((n) => n + 1)} />`)}
  <//>`;
}

export function QuotasPanel({ session, refreshKey, onAuthLost }) {
  const { data, error } = useQuery(session, QUOTAS, undefined, refreshKey, onAuthLost);
  return html`<${Panel} title="Quotas" id="quotas" error=${error}>
    ${(data?.quotaUsage ?? []).map((q) => {
      const used = q.limit > 0 ? q.allocated / q.limit : 0;
      const level = used >= 0.9 ? "bad" : used >= 0.7 ? "warn" : "ok";
      return html`<div class="gauge" key=${q.resource} data-resource=${q.resource}>
        <div class="gauge-label"><strong>${q.resource}</strong> <span class="muted small">${q.kind.toLowerCase()}${q.windowSeconds ? ` / ${age(q.windowSeconds)}` : ""}${q.custom ? "" : " · default"}</span><span>${q.allocated} / ${q.limit}</span></div>
        <div class=${`gauge-bar ${level}`} role="meter" aria-label=${`${q.resource} usage`} aria-valuemin="0" aria-valuemax=${q.limit} aria-valuenow=${q.allocated}><div class="fill" style=${{ width: `${Math.min(100, used * 100)}%` }}></div></div>
      </div>`;
    })}
  <//>`;
}
