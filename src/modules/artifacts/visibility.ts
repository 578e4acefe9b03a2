/**
 * Who may read an artifact. Every read path — by id, lists, the summary, nested fields, events,
 * routing — filters with {@link visibleArtifactsWhere}, so the rule exists once.
 *
 * A reader is a token principal acting as the agents it registered (`Agent.registeredBy`), or
 * an agent on its own (routing). It sees an artifact when any of these holds:
 * - the artifact is PUBLIC;
 * - the reader published it, or one of its agents produced it;
 * - PRIVATE: one of its agents is among the artifact's readers;
 * - LABELLED: one of its agents holds the artifact's label (labels are granted by an admin);
 * - AFTER: the artifact's `visibleFrom` has passed.
 * An `admin` token sees every artifact of its workspace (operators, dashboards).
 */
import type { Principal } from "../../auth/tokens.ts";
import type { Db } from "../../db/client.ts";
import type { Prisma } from "../../generated/prisma/client.ts";

export interface ArtifactReader {
  workspaceId: string;
  /** The token subject; null when an agent reads on its own (routing). */
  subject: string | null;
  admin: boolean;
  /** The agents the reader acts as. */
  agentIds: readonly string[];
  /** Every label those agents hold. */
  labels: readonly string[];
}

/** The reader a token is: its subject and the agents it registered, with their labels. One statement. */
export async function readerOf(db: Db, principal: Principal): Promise<ArtifactReader> {
  const admin = principal.scopes.has("admin");
  const agents = admin
    ? []
    : await db.agent.findMany({ where: { workspaceId: principal.workspaceId, registeredBy: principal.subject }, select: { id: true, artifactProfile: { select: { labels: true } } } });
  return {
    workspaceId: principal.workspaceId,
    subject: principal.subject,
    admin,
    agentIds: agents.map((a) => a.id),
    labels: [...new Set(agents.flatMap((a) => a.artifactProfile?.labels ?? []))],
  };
}

/** An agent reading on its own: what a consumer may be handed. */
export function agentReader(workspaceId: string, agentId: string, labels: readonly string[]): ArtifactReader {
  return { workspaceId, subject: null, admin: false, agentIds: [agentId], labels };
}

/**
 * The artifacts `reader` may read at instant `at` ("ever": at some time, i.e. AFTER artifacts
 * count whatever their `visibleFrom`). Combine with other conditions under AND.
 */
export function visibleArtifactsWhere(reader: ArtifactReader, at: Date | "ever"): Prisma.ArtifactWhereInput {
  if (reader.admin) return { workspaceId: reader.workspaceId };
  const agentIds = [...reader.agentIds];
  return {
    workspaceId: reader.workspaceId,
    OR: [
      { visibility: "PUBLIC" },
      ...(reader.subject !== null ? [{ publishedBy: reader.subject }] : []),
      ...(agentIds.length > 0 ? [{ producerAgentId: { in: agentIds } }, { visibility: "PRIVATE" as const, readerAgentIds: { hasSome: agentIds } }] : []),
      ...(reader.labels.length > 0 ? [{ visibility: "LABELLED" as const, label: { in: [...reader.labels] } }] : []),
      { visibility: "AFTER", ...(at === "ever" ? {} : { visibleFrom: { lte: at } }) },
    ],
  };
}
