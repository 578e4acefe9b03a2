/** GraphQL type of the audit trail: one entry per event-log row. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { builder } from "../../schema/builder.ts";
import { DOMAIN_ENTITY_TYPE, isAuditDomain } from "./service.ts";

export const AuditEntryRef = builder.prismaObject("Event", {
  name: "AuditEntry",
  description: "One state change, as the event log recorded it in the change's own transaction: who did what to which entity, when.",
  fields: (t) => ({
    id: t.id({
      description:
        "The entry's position in the event log, as a decimal string: 1, 2, 3… in commit order. It is the same number as the `cursor` of the event a subscription delivers for this change, so `after: <id>` resumes a subscription right after it.",
      resolve: (e) => e.id.toString(),
    }),
    action: t.exposeString("type", { description: "What happened, as `<domain>.<what>`, e.g. conflict.resolved." }),
    domain: t.exposeString("topic", { description: "The domain the change belongs to: agent, swarm, task, quota, finding, conflict, token (revocations), artifact or correlation." }),
    entityId: t.exposeString("entityId", { description: "Raw id of the entity that changed (the id inside its global id)." }),
    entityGlobalId: t.id({
      nullable: true,
      description: "Global id of the entity that changed, for `node(id:)`; null for a correlation (its id is entityId).",
      resolve: (e) => {
        const type = isAuditDomain(e.topic) ? DOMAIN_ENTITY_TYPE[e.topic] : null;
        return type ? encodeGlobalID(type, e.entityId) : null;
      },
    }),
    actor: t.exposeString("actor", { nullable: true, description: "Subject of the token that made the change; \"system\" for the server's own housekeeping." }),
    details: t.expose("payload", { type: "JSON", description: "What changed, as recorded with the event (e.g. from/to statuses, reasons, figures)." }),
    at: t.expose("createdAt", { type: "DateTime", description: "When the change committed." }),
  }),
});
