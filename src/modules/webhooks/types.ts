/** GraphQL types of webhook endpoints and their delivery log. */
import type { Context } from "../../context.ts";
import { builder, pageSizeLimit } from "../../schema/builder.ts";
import { endpointLag } from "./service.ts";
import { SECRET_PREFIX } from "./signature.ts";

export const WebhookStatusEnum = builder.enumType("WebhookStatus", {
  description: "Whether an endpoint receives deliveries: ACTIVE ⇄ DISABLED (disableWebhook, enableWebhook, or automatically after repeated failures).",
  values: {
    ACTIVE: { description: "Receives its events in order." },
    DISABLED: { description: "Receives nothing; its undelivered events wait, in order, for enableWebhook." },
  } as const,
});

export const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  description: "Where one delivery stands.",
  values: {
    PENDING: { description: "Not yet acknowledged: waiting for its turn or for its next attempt (`nextAttemptAt`)." },
    SUCCEEDED: { description: "The endpoint answered 2xx." },
    FAILED: { description: "Given up: a 3xx (redirects are not followed) or a 4xx other than 408/429, a refused target, or WEBHOOK_MAX_ATTEMPTS failed attempts. redeliverWebhookDelivery sends it again." },
  } as const,
});

export const WebhookDeliveryOriginEnum = builder.enumType("WebhookDeliveryOrigin", {
  description: "Why a delivery exists.",
  values: {
    EVENT: { description: "An event matched the endpoint's filters." },
    REDELIVERY: { description: "redeliverWebhookDelivery asked for it." },
  } as const,
});

export const WebhookDeliveryRef = builder.prismaNode("WebhookDelivery", {
  description: "One event sent (or to be sent) to one endpoint: an entry of the delivery log.",
  id: { field: "id", description: "Global id of the delivery." },
  authScopes: { scope: "webhooks:read" },
  nullable: true,
  findUnique: (id: string, ctx: Context) => ({ id, workspaceId: ctx.viewer?.workspaceId ?? "" }),
  fields: (t) => ({
    webhook: t.relation("webhook", { description: "The endpoint." }),
    eventCursor: t.string({ description: "The event's position in the log (its `cursor`).", resolve: (d) => String(d.eventId) }),
    eventType: t.exposeString("eventType", { description: "The event's type, e.g. task.completed." }),
    messageId: t.string({
      description: "The `webhook-id` header every attempt of this event to this endpoint carries (redeliveries and replays too): receivers deduplicate on it.",
      resolve: (d) => `msg_${d.webhookId}_${d.eventId}`,
    }),
    status: t.expose("status", { type: WebhookDeliveryStatusEnum, description: "PENDING, SUCCEEDED or FAILED." }),
    origin: t.field({ type: WebhookDeliveryOriginEnum, description: "Why it exists.", resolve: (d) => (d.origin === "REDELIVERY" ? "REDELIVERY" : "EVENT") }),
    attempts: t.exposeInt("attempts", { description: "HTTP requests made so far (one that a crash interrupted counts too)." }),
    responseStatus: t.exposeInt("responseStatus", { nullable: true, description: "HTTP status of the last attempt; null when it got no response." }),
    responseBody: t.exposeString("responseBody", { nullable: true, description: "The last response's body, truncated to 2 KiB." }),
    latencyMs: t.exposeInt("latencyMs", { nullable: true, description: "How long the last attempt took, in milliseconds." }),
    error: t.exposeString("error", { nullable: true, description: "Why the last attempt failed (network error, timeout, HTTP status, refused target); null after a success." }),
    nextAttemptAt: t.field({ type: "DateTime", nullable: true, description: "PENDING: when it is sent next (once the deliveries before it are done); null otherwise.", resolve: (d) => (d.status === "PENDING" ? d.nextAttemptAt : null) }),
    lastAttemptAt: t.expose("lastAttemptAt", { type: "DateTime", nullable: true, description: "When the last attempt started." }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true, description: "When it SUCCEEDED or FAILED; null while PENDING." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was queued." }),
  }),
});

export const WebhookRef = builder.prismaNode("Webhook", {
  description:
    "An HTTP endpoint that receives the workspace's events as signed POST requests (Standard Webhooks headers), in log order, at least once. See the README's Webhooks section for the body and how to verify signatures.",
  id: { field: "id", description: "Global id of the endpoint." },
  authScopes: { scope: "webhooks:read" },
  nullable: true,
  findUnique: (id: string, ctx: Context) => ({ id, workspaceId: ctx.viewer?.workspaceId ?? "" }),
  fields: (t) => ({
    url: t.exposeString("url", { description: "Where deliveries are POSTed." }),
    description: t.exposeString("description", { nullable: true, description: "What it is for." }),
    eventTypes: t.exposeStringList("eventTypes", { description: "Event types (`task.completed`) or whole topics (`task.*`) it receives; empty: every event." }),
    entityIds: t.exposeStringList("entityIds", { description: "Raw ids of the entities whose events it receives (an event's `entityId`); empty: any." }),
    status: t.expose("status", { type: WebhookStatusEnum, description: "ACTIVE or DISABLED." }),
    disabledReason: t.exposeString("disabledReason", { nullable: true, description: "Why it is DISABLED (by whom, or the failures that disabled it); null while ACTIVE." }),
    disabledAt: t.expose("disabledAt", { type: "DateTime", nullable: true, description: "When it was disabled." }),
    secretHint: t.string({ description: `The first characters of the current secret (after "${SECRET_PREFIX}"), to tell secrets apart; the secret itself is shown only when set.`, resolve: (w) => `${w.secret.slice(0, SECRET_PREFIX.length + 4)}…` }),
    previousSecretExpiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "Until when the secret before the last rotation still signs deliveries (beside the current one); null when it no longer does.",
      resolve: (w) => (w.previousSecretExpiresAt && w.previousSecretExpiresAt > new Date() ? w.previousSecretExpiresAt : null),
    }),
    cursor: t.string({ description: "Log position up to which its matching events are queued: replayWebhook(after:) moves it back.", resolve: (w) => String(w.cursor) }),
    deliveredCount: t.exposeInt("deliveredCount", { description: "Deliveries acknowledged with 2xx, all time (metric)." }),
    failedCount: t.exposeInt("failedCount", { description: "Deliveries given up on (FAILED), all time (metric)." }),
    consecutiveFailures: t.exposeInt("consecutiveFailures", { description: "Failed attempts since the last success; at WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled." }),
    lag: t.int({
      description: "Events it has still to finish (metric): its PENDING deliveries plus the matching events in the log not yet queued. 0 when it is caught up.",
      resolve: (w, _args, ctx) => endpointLag(ctx.db, w),
    }),
    lastSuccessAt: t.expose("lastSuccessAt", { type: "DateTime", nullable: true, description: "When it last acknowledged a delivery." }),
    lastFailureAt: t.expose("lastFailureAt", { type: "DateTime", nullable: true, description: "When an attempt last failed." }),
    createdBy: t.exposeString("createdBy", { description: "Subject of the token that created it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it last changed." }),
    deliveries: t.relatedConnection(
      "deliveries",
      {
        cursor: "id",
        description: "Its delivery log, newest first.",
        maxSize: pageSizeLimit,
        args: { status: t.arg({ type: [WebhookDeliveryStatusEnum], required: false, description: "Only deliveries in any of these states." }) },
        query: (args) => ({ where: args.status ? { status: { in: args.status } } : {}, orderBy: { seq: "desc" } }),
        totalCount: true,
      },
      {
        description: "A page of an endpoint's delivery log.",
        fields: (c) => ({
          totalCount: c.int({
            description: "How many deliveries match, over all pages.",
            extensions: { pothosPrismaTotalCount: true },
            resolve: (parent) => (parent as { totalCount?: number }).totalCount ?? 0,
          }),
        }),
      },
      { description: "A delivery in a page." },
    ),
  }),
});
