/** What every bench scenario shares: seeding through the API, timing, and the report. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CreateTasksDocument, RegisterAgentDocument } from "../test/generated/graphql.ts";
import { expectType, type GraphQLClient } from "../test/support/client.ts";

export interface Result {
  group: string;
  scenario: string;
  /** Operations counted (cycles, claims, deliveries, requests). */
  ops: number;
  seconds: number;
  /** Extra figures of the scenario (latency percentiles, statements, ratios). */
  extra?: Record<string, number | string>;
}

export const results: Result[] = [];

export function record(result: Result): Result {
  results.push(result);
  const rate = (result.ops / result.seconds).toFixed(0);
  console.log(`  ${result.group} · ${result.scenario}: ${rate}/s${result.extra ? ` ${JSON.stringify(result.extra)}` : ""}`);
  return result;
}

export function rate(group: string, scenario: string): number {
  const r = results.find((x) => x.group === group && x.scenario === scenario);
  return r ? r.ops / r.seconds : Number.NaN;
}

/** One of a scenario's extra figures (NaN when the scenario did not run). */
export function figure(group: string, scenario: string, key: string): number {
  const value = results.find((x) => x.group === group && x.scenario === scenario)?.extra?.[key];
  return typeof value === "number" ? value : Number.NaN;
}

export async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

export async function createTasks(api: GraphQLClient, type: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const tasks = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ description: `${type} ${i + j}`, type }));
    expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
  }
}

export async function registerAgents(api: GraphQLClient, prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(expectType((await api.request(RegisterAgentDocument, { input: { name: `${prefix}-${i}`, type: "bench" } })).registerAgent, "RegisterAgentPayload").agent.id);
  return ids;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Prints the table and writes bench/results/<time>.json (git-ignored). */
export function report(meta: Record<string, unknown>, ratios: { name: string; value: number; target: string }[]): void {
  console.log("\n| group | scenario | ops/s | details |\n|---|---|---|---|");
  for (const r of results) console.log(`| ${r.group} | ${r.scenario} | ${(r.ops / r.seconds).toFixed(0)} | ${r.extra ? Object.entries(r.extra).map(([k, v]) => `${k} ${v}`).join(", ") : ""} |`);
  console.log("\n| ratio | value | target |\n|---|---|---|");
  for (const r of ratios) console.log(`| ${r.name} | ${Number.isFinite(r.value) ? r.value.toFixed(2) : "n/a"} | ${r.target} |`);
  const dir = path.join(import.meta.dirname, "results");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
  fs.writeFileSync(file, JSON.stringify({ ...meta, machine, results, ratios }, null, 2));
  console.log(`\nwritten ${path.relative(process.cwd(), file)}`);
}
