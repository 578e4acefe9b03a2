/**
 * A `swarmgraph worker --work` module for the supervisor suite: reports progress, then holds the
 * task until the file named by its context's `gate` exists (the test opens the gate by writing
 * it), so a test decides when work finishes without sleeping.
 */
import fs from "node:fs";
import path from "node:path";

export default async function gatedWork(task: { id: string; description: string; context: unknown }, progress: (fraction: number) => Promise<void>): Promise<Record<string, unknown>> {
  await progress(0.1);
  const gate = (task.context as { gate?: unknown } | null)?.gate;
  if (typeof gate === "string") await fileExists(gate);
  return { done: task.description, pid: process.pid };
}

function fileExists(file: string): Promise<void> {
  return new Promise((resolve) => {
    const watcher = fs.watch(path.dirname(file), () => check());
    const check = () => {
      if (!fs.existsSync(file)) return;
      watcher.close();
      resolve();
    };
    check();
  });
}
