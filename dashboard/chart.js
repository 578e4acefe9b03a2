// Throughput: tasks completed and failed per minute over the last 30 minutes, drawn with uPlot.
import { html, useEffect, useRef } from "/vendor/preact-htm.js";
import uPlot from "/vendor/uplot.js";

export const WINDOW_MINUTES = 30;
const MINUTE = 60_000;

/**
 * Counts of terminal task outcomes per minute. A task is counted once, whether it arrives in the
 * initial query, in a replayed event or in a live one.
 */
export class Throughput {
  constructor() {
    this.counted = new Set();
    this.minutes = new Map(); // minute start (ms) → { completed, failed }
  }

  /** Records `taskId` ending as "completed" or "failed" at `at`; false when already counted. */
  add(taskId, outcome, at) {
    if (!taskId || !at || this.counted.has(taskId)) return false;
    const minute = Math.floor(new Date(at).getTime() / MINUTE) * MINUTE;
    if (minute < Date.now() - WINDOW_MINUTES * MINUTE) return false;
    this.counted.add(taskId);
    const bucket = this.minutes.get(minute) ?? { completed: 0, failed: 0 };
    bucket[outcome] += 1;
    this.minutes.set(minute, bucket);
    return true;
  }

  /** uPlot data: [minute (s), completed, failed] for every minute of the window, up to now. */
  series(now = Date.now()) {
    const last = Math.floor(now / MINUTE) * MINUTE;
    const xs = [];
    const completed = [];
    const failed = [];
    for (let m = last - (WINDOW_MINUTES - 1) * MINUTE; m <= last; m += MINUTE) {
      const bucket = this.minutes.get(m);
      xs.push(m / 1000);
      completed.push(bucket?.completed ?? 0);
      failed.push(bucket?.failed ?? 0);
    }
    return [xs, completed, failed];
  }

  totals() {
    let completed = 0;
    let failed = 0;
    for (const b of this.minutes.values()) {
      completed += b.completed;
      failed += b.failed;
    }
    return { completed, failed };
  }
}

/** The chart; `version` changes whenever `throughput` counted something new. */
export function ThroughputChart({ throughput, version }) {
  const box = useRef(null);
  const plot = useRef(null);

  useEffect(() => {
    const bars = uPlot.paths.bars({ size: [0.7, 24] });
    const narrow = uPlot.paths.bars({ size: [0.35, 12] });
    plot.current = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height: 180,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, max + 1)] } },
        axes: [{ stroke: "#94a3b8", grid: { stroke: "#1e293b" } }, { stroke: "#94a3b8", grid: { stroke: "#1e293b" }, label: "tasks / min" }],
        series: [
          { label: "minute" },
          { label: "completed", stroke: "#22c55e", fill: "rgba(34,197,94,0.55)", paths: bars, points: { show: false } },
          { label: "failed", stroke: "#ef4444", fill: "rgba(239,68,68,0.8)", paths: narrow, points: { show: false } },
        ],
      },
      throughput.series(),
      box.current,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: box.current.clientWidth, height: 180 }));
    resize.observe(box.current);
    // The window slides even when nothing happens.
    const tick = setInterval(() => plot.current?.setData(throughput.series()), 15_000);
    return () => {
      clearInterval(tick);
      resize.disconnect();
      plot.current.destroy();
    };
  }, []);

  useEffect(() => plot.current?.setData(throughput.series()), [version]);

  const totals = throughput.totals();
  return html`<div class="chart" ref=${box} data-completed=${totals.completed} data-failed=${totals.failed} aria-label="tasks completed and failed per minute"></div>
    <p class="muted">Last ${WINDOW_MINUTES} min: <strong class="ok">${totals.completed}</strong> completed, <strong class="bad">${totals.failed}</strong> failed.</p>`;
}
