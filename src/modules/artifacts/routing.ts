/**
 * Consume rules: which artifacts an agent wants handed to it (seed 004's agent subscriptions).
 * A rule matches an artifact when the artifact's type is one of the rule's `types`, it carries
 * every one of the rule's `tags`, and — when the rule names `partitionKeys` — its partition key
 * is one of them. An agent consumes an artifact when any of its rules matches, it is not
 * terminated, it did not produce the artifact itself (no self-triggering), and it may read it.
 */
import { z } from "zod";
import { labelListRule, labelRule } from "../../validation.ts";

/** Artifact type names: letters, digits, _ . : / - (e.g. CodeSubmission, review.v2). */
export const artifactTypeRule = labelRule;

export const consumeRuleSchema = z.object({
  types: z.array(artifactTypeRule).min(1, "name at least one type").max(50, "at most 50 types"),
  tags: labelListRule.default([]),
  partitionKeys: z.array(labelRule).max(100, "at most 100 entries").default([]),
});
export type ConsumeRule = z.output<typeof consumeRuleSchema>;

/** What routing looks at in an artifact. */
export interface Routable {
  type: string;
  tags: readonly string[];
  partitionKey: string | null;
}

export function ruleMatches(rule: ConsumeRule, artifact: Routable): boolean {
  return (
    rule.types.includes(artifact.type) &&
    rule.tags.every((tag) => artifact.tags.includes(tag)) &&
    (rule.partitionKeys.length === 0 || (artifact.partitionKey !== null && rule.partitionKeys.includes(artifact.partitionKey)))
  );
}

/** Reads stored rules (the profile's `consumes` JSON, written only through consumeRuleSchema). */
export function storedRules(json: unknown): ConsumeRule[] {
  return z.array(consumeRuleSchema).catch([]).parse(json);
}
