/** Live delivery progress: a dashboard subscribes to webhookDeliveryEvents instead of polling the log. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { DELIVERY_EVENT_PREFIX } from "./service.ts";
import { WebhookDeliveryRef, WebhookDeliveryStatusEnum } from "./types.ts";

const WebhookDeliveryEventRef = builder.objectRef<EventRecord>("WebhookDeliveryEvent").implement({
  description:
    "Progress of a webhook delivery: webhook.delivery_succeeded, webhook.delivery_retrying (an attempt failed; another follows at nextAttemptAt), webhook.delivery_failed (given up), webhook.delivery_queued (a redelivery), and webhook.disabled / webhook.enabled of the endpoint.",
  interfaces: [EventInterface],
  fields: (t) => ({
    webhookId: t.id({ description: "Global id of the endpoint.", resolve: (e) => encodeGlobalID("Webhook", e.entityId) }),
    deliveryId: t.id({ nullable: true, description: "Global id of the delivery; null for webhook.disabled / webhook.enabled.", resolve: (e) => { const id = payloadString(e, "deliveryId"); return id ? encodeGlobalID("WebhookDelivery", id) : null; } }),
    eventCursor: t.string({ nullable: true, description: "Cursor of the delivered event.", resolve: (e) => payloadString(e, "eventCursor") }),
    status: t.field({ type: WebhookDeliveryStatusEnum, nullable: true, description: "The delivery's status after this step.", resolve: (e) => (payloadString(e, "status") as never) ?? null }),
    attempts: t.int({ nullable: true, description: "Attempts made so far.", resolve: (e) => (typeof e.payload.attempts === "number" ? e.payload.attempts : null) }),
    responseStatus: t.int({ nullable: true, description: "HTTP status of the attempt; null when none arrived.", resolve: (e) => (typeof e.payload.responseStatus === "number" ? e.payload.responseStatus : null) }),
    error: t.string({ nullable: true, description: "Why the attempt failed; null after a success.", resolve: (e) => payloadString(e, "error") }),
    lastAttemptAt: t.field({ type: "DateTime", nullable: true, description: "When the attempt started.", resolve: (e) => dateOf(payloadString(e, "lastAttemptAt")) }),
    nextAttemptAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "webhook.delivery_retrying: when the next attempt is due (backoff with jitter, or the receiver's Retry-After); null otherwise.",
      resolve: (e) => dateOf(payloadString(e, "nextAttemptAt")),
    }),
    retryDelayMs: t.int({
      nullable: true,
      description: "webhook.delivery_retrying: the wait before the next attempt, in ms (exponential backoff with jitter, or the receiver's Retry-After, capped at WEBHOOK_RETRY_MAX_MS); null otherwise.",
      resolve: (e) => (typeof e.payload.retryDelayMs === "number" ? e.payload.retryDelayMs : null),
    }),
    delivery: t.prismaField({
      type: WebhookDeliveryRef,
      nullable: true,
      description: "The delivery as it is now; null once deleted with its endpoint.",
      resolve: (query, e, _args, ctx) => {
        const id = payloadString(e, "deliveryId");
        return id ? ctx.db.webhookDelivery.findFirst({ ...query, where: { id, workspaceId: e.workspaceId } }) : null;
      },
    }),
  }),
});

const dateOf = (value: string | null) => (value ? new Date(value) : null);

const STREAMED = (type: string) => type.startsWith(DELIVERY_EVENT_PREFIX) || type === "webhook.disabled" || type === "webhook.enabled";

builder.subscriptionFields((t) => ({
  webhookDeliveryEvents: t.field({
    type: WebhookDeliveryEventRef,
    description: "Delivery progress of your workspace's webhook endpoints (or of one), live: every attempt's outcome, and endpoints disabled or enabled. Resume with `after`.",
    args: {
      webhookId: t.arg.globalID({ required: false, description: "Only this endpoint's deliveries." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("webhooks:read", (_ctx, args: { webhookId?: { typename: string; id: string } | null }) => {
      const only = args.webhookId ? (args.webhookId.typename === "Webhook" ? args.webhookId.id : "") : null;
      return {
        topics: ["webhook"],
        entityIds: only === null ? undefined : [only],
        select: async (events: readonly EventRecord[]) => events.map((e) => (STREAMED(e.type) && (only === null || e.entityId === only) ? e : null)),
      };
    }),
  }),
}));
