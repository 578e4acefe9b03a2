/**
 * Input rules as zod schemas. Services parse their input with {@link parseInput}, so the rules
 * hold for every caller; a broken rule becomes an `InvalidInputError` listing every issue, which
 * mutations return as a typed member of their result union.
 */
import { z } from "zod";
import { InvalidInputError } from "./errors.ts";

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
export const jsonObjectRule = z
  .record(z.string(), z.unknown())
  .refine((value) => Buffer.byteLength(JSON.stringify(value)) <= MAX_JSON_BYTES, `must serialize to at most ${MAX_JSON_BYTES} bytes`);
