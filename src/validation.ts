/**
 * Input rules as zod schemas. Services parse their input with {@link parseInput}, so the rules
 * hold for every caller; a broken rule becomes an `InvalidInputError` listing every issue, which
 * mutations return as a typed member of their result union.
 */
import { z } from "zod";
import { type InputIssue, InvalidInputError } from "./errors.ts";

/**
 * Parses `input` with `schema`.
 * @throws InvalidInputError naming every offending field as `<prefix>.<path>`
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, prefix = "input"): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // One issue per field: the first rule it broke (an empty label breaks both length and pattern).
  const byPath = new Map<string, string>();
  for (const issue of result.error.issues) {
    const path = [prefix, ...issue.path.map(String)].join(".");
    if (!byPath.has(path)) byPath.set(path, issue.message);
  }
  throw new InvalidInputError([...byPath].map(([path, message]) => ({ path, message })));
}

/** Largest JSON document (config, metadata, metrics) we accept, serialized. */
export const MAX_JSON_BYTES = 64 * 1024;

/**
 * The deepest nesting any check here walks into. MAX_INPUT_DEPTH (at most this) is the limit
 * clients meet; this one only keeps a service called outside GraphQL from recursing without end.
 */
export const DEEPEST_INPUT = 256;

/** Timestamps PostgreSQL and every client can store and print (year 1 to 9999). */
const EARLIEST = new Date("0001-01-01T00:00:00.000Z").getTime();
const LATEST = new Date("9999-12-31T23:59:59.999Z").getTime();

/**
 * What no input may contain, whatever the field: NUL characters (PostgreSQL text cannot hold
 * them), lone UTF-16 surrogates (not Unicode; JSON columns refuse them), non-finite numbers,
 * instants outside years 1–9999, and nesting deeper than `maxDepth` (deep JSON overflows the
 * stack of whatever parses it — the embedded database first of all). Walks `value` without
 * recursion and names each offending field as `path.to.field` (list items by index).
 * Relay ids arrive decoded as `{ typename, id }` and are named by the argument holding them.
 */
export function hostileValueIssues(value: unknown, path: string, maxDepth: number, limit = 20): InputIssue[] {
  const issues: InputIssue[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  while (stack.length > 0 && issues.length < limit) {
    const item = stack.pop()!;
    const problem = hostileScalar(item.value);
    if (problem) {
      issues.push({ path: item.path, message: problem });
      continue;
    }
    if (item.value === null || typeof item.value !== "object" || item.value instanceof Date) continue;
    if (isDecodedGlobalId(item.value)) {
      const idProblem = hostileScalar(item.value.id);
      if (idProblem) issues.push({ path: item.path, message: `is not a valid id: it ${idProblem}` });
      continue;
    }
    if (item.depth >= maxDepth) {
      issues.push({ path: item.path, message: `nests deeper than ${maxDepth} levels (MAX_INPUT_DEPTH)` });
      continue;
    }
    const entries: [string, unknown][] = Array.isArray(item.value) ? item.value.map((v, i) => [String(i), v]) : Object.entries(item.value);
    for (const [key, child] of entries.reverse()) {
      const childPath = item.path ? `${item.path}.${key}` : key;
      const keyProblem = Array.isArray(item.value) ? null : hostileScalar(key);
      if (keyProblem) issues.push({ path: childPath, message: `has a key that ${keyProblem}` });
      else stack.push({ value: child, path: childPath, depth: item.depth + 1 });
    }
  }
  return issues;
}

/** Why a single value can never be stored or compared, or null when it can. */
function hostileScalar(value: unknown): string | null {
  if (typeof value === "string") {
    if (value.includes("\u0000")) return "must not contain NUL (\\u0000) characters";
    if (!value.isWellFormed()) return "must be valid Unicode text (it contains a lone UTF-16 surrogate)";
    return null;
  }
  if (typeof value === "number") return Number.isFinite(value) ? null : "must be a finite number";
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) || time < EARLIEST || time > LATEST ? "must be an instant between years 1 and 9999" : null;
  }
  return null;
}

function isDecodedGlobalId(value: object): value is { typename: string; id: unknown } {
  const keys = Object.keys(value);
  return keys.length === 2 && "typename" in value && "id" in value && typeof value.typename === "string";
}

export const nameRule = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters");
export const labelRule = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .regex(/^[\w.:/-]+$/, "may contain only letters, digits, _ . : / -");
export const labelListRule = z.array(labelRule).max(100, "at most 100 entries");
export const longTextRule = z.string().trim().min(1, "must not be empty").max(10_000, "must be at most 10000 characters");
export const optionalTextRule = z.string().max(10_000, "must be at most 10000 characters");
export const jsonObjectRule = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  // Checked before serializing: JSON.stringify recurses, and deep enough input overflows the stack.
  const issues = hostileValueIssues(value, "", DEEPEST_INPUT);
  for (const issue of issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path ? issue.path.split(".") : [] });
  if (issues.length === 0 && Buffer.byteLength(JSON.stringify(value)) > MAX_JSON_BYTES) ctx.addIssue({ code: "custom", message: `must serialize to at most ${MAX_JSON_BYTES} bytes` });
});
/** A JSON object, or nothing (null or absent). One instance: building a zod schema per call costs more than parsing with it. */
export const optionalJsonObjectRule = jsonObjectRule.nullish();
