/** Changes to webhook endpoints. Each mutation maps its input to one service call. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { Webhook, WebhookDelivery } from "../../generated/prisma/client.ts";
import type { Context } from "../../context.ts";
import { actorOf } from "../../context.ts";
import { IllegalTransitionError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { parseCursor } from "../../events/stream.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import { readableDomains } from "../audit/service.ts";
import * as webhooks from "./service.ts";
import { WebhookDeliveryRef, WebhookRef } from "./types.ts";

const WRITE = { scope: "webhooks:write" } as const;

function settings(ctx: Context): webhooks.WebhookSettings {
  return { allowPrivateTargets: ctx.config.webhookAllowPrivateTargets, secretGraceSeconds: ctx.config.webhookSecretGraceSeconds };
}

const EVENT_TYPES_DESCRIPTION = `Event types (\`task.completed\`) or whole topics (\`task.*\`) to receive, at most ${webhooks.MAX_EVENT_TYPES}; empty or omitted: every event. Delivery events (webhook.delivery_*) are never sent.`;
const ENTITY_IDS_DESCRIPTION = `Only events about these entities (global ids of agents, swarms, tasks, findings, …), at most ${webhooks.MAX_ENTITY_IDS}; omitted: any.`;

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  description: "A new webhook endpoint.",
  fields: (t) => ({
    url: t.string({ required: true, description: "http(s) URL deliveries are POSTed to. Private, loopback and link-local targets are refused unless WEBHOOK_ALLOW_PRIVATE_TARGETS is set." }),
    description: t.string({ required: false, description: "What it is for (at most 500 characters)." }),
    eventTypes: t.stringList({ required: false, description: EVENT_TYPES_DESCRIPTION }),
    entityIds: t.globalIDList({ required: false, description: ENTITY_IDS_DESCRIPTION }),
    secret: t.string({ required: false, description: "Signing secret: `whsec_` and the base64 of 24–64 random bytes. Omitted: one is generated. Either way it is returned once, in the payload." }),
    active: t.boolean({ required: false, description: "false creates it DISABLED (enable it when the receiver is ready). Default true." }),
  }),
});

const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  description: "Changes to an endpoint; omitted fields stay as they are.",
  fields: (t) => ({
    webhookId: t.globalID({ required: true, description: "Global id of the endpoint." }),
    url: t.string({ required: false, description: "New URL (same rules as createWebhook)." }),
    description: t.string({ required: false, description: "New description; an empty string clears it." }),
    eventTypes: t.stringList({ required: false, description: `${EVENT_TYPES_DESCRIPTION} Applies to events not yet queued.` }),
    entityIds: t.globalIDList({ required: false, description: `${ENTITY_IDS_DESCRIPTION} An empty list removes the filter.` }),
  }),
});

const RotateWebhookSecretInput = builder.inputType("RotateWebhookSecretInput", {
  description: "A new signing secret for an endpoint.",
  fields: (t) => ({
    webhookId: t.globalID({ required: true, description: "Global id of the endpoint." }),
    secret: t.string({ required: false, description: "The new secret (`whsec_` + base64 of 24–64 bytes). Omitted: one is generated." }),
    graceSeconds: t.int({
      required: false,
      description: "How long the old secret keeps signing beside the new one (0 to 30 days), so receivers can switch without refusing deliveries. Default WEBHOOK_SECRET_GRACE_SECONDS.",
    }),
  }),
});

const WebhookIdInput = (name: string, description: string) =>
  builder.inputType(name, { description, fields: (t) => ({ webhookId: t.globalID({ required: true, description: "Global id of the endpoint." }) }) });

const DisableWebhookInput = builder.inputType("DisableWebhookInput", {
  description: "Which endpoint to disable, and why.",
  fields: (t) => ({
    webhookId: t.globalID({ required: true, description: "Global id of the endpoint." }),
    reason: t.string({ required: false, description: "Why (shown as `disabledReason`, at most 500 characters)." }),
  }),
});

const RedeliverInput = builder.inputType("RedeliverWebhookDeliveryInput", {
  description: "Which finished delivery to send again.",
  fields: (t) => ({ deliveryId: t.globalID({ required: true, description: "Global id of a SUCCEEDED or FAILED delivery." }) }),
});

const ReplayWebhookInput = builder.inputType("ReplayWebhookInput", {
  description: "Where to replay an endpoint's events from.",
  fields: (t) => ({
    webhookId: t.globalID({ required: true, description: "Global id of the endpoint." }),
    after: t.string({ required: true, description: "An event cursor: the endpoint's matching events after it are sent again, in order (those still in the log: EVENT_RETENTION_HOURS)." }),
  }),
});

const WebhookPayload = (name: string, description: string) =>
  builder.objectRef<{ webhook: Webhook }>(name).implement({
    description,
    fields: (t) => ({ webhook: t.field({ type: WebhookRef, description: "The endpoint as it is after the change.", resolve: (p) => p.webhook }) }),
  });

const WebhookWithSecretPayload = (name: string, description: string) =>
  builder.objectRef<webhooks.WebhookWithSecret>(name).implement({
    description,
    fields: (t) => ({
      webhook: t.field({ type: WebhookRef, description: "The endpoint.", resolve: (p) => p.webhook }),
      secret: t.exposeString("secret", { description: "The signing secret. Store it now: it is never shown again." }),
    }),
  });

const DeleteWebhookPayload = builder.objectRef<{ webhookId: string }>("DeleteWebhookPayload").implement({
  description: "The deleted endpoint.",
  fields: (t) => ({ webhookId: t.id({ description: "Global id of the deleted endpoint.", resolve: (p) => p.webhookId }) }),
});

const RedeliverPayload = builder.objectRef<{ delivery: WebhookDelivery }>("RedeliverWebhookDeliveryPayload").implement({
  description: "The new delivery of the same event (same `messageId`), queued after the endpoint's pending ones.",
  fields: (t) => ({ delivery: t.field({ type: WebhookDeliveryRef, description: "The new delivery.", resolve: (p) => p.delivery }) }),
});

const entityIds = (ids: readonly { typename: string; id: string }[] | null | undefined) => (ids ? ids.map((id) => id.id) : ids);

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookWithSecretPayload("CreateWebhookPayload", "The new endpoint and its secret (shown this once)."),
    description: "Registers a webhook endpoint: it receives the matching events committed from now on, signed, in order, at least once — of the topics your token may read only (each topic needs its read scope, as for the audit trail; naming another in eventTypes is refused).",
    authScopes: WRITE,
    errors: { types: [] },
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: "The endpoint." }) },
    resolve: (_root, { input }, ctx) => webhooks.createWebhook(ctx.db, actorOf(ctx), { ...input, entityIds: entityIds(input.entityIds) }, settings(ctx), readableDomains(ctx.viewer!.scopes)),
  }),
  updateWebhook: t.field({
    type: WebhookPayload("UpdateWebhookPayload", "The changed endpoint."),
    description: "Changes an endpoint's URL, description or filters.",
    authScopes: WRITE,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: "Which endpoint, and the changes." }) },
    resolve: async (_root, { input }, ctx) => ({
      webhook: await webhooks.updateWebhook(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook"), { ...input, entityIds: entityIds(input.entityIds) }, settings(ctx), readableDomains(ctx.viewer!.scopes)),
    }),
  }),
  rotateWebhookSecret: t.field({
    type: WebhookWithSecretPayload("RotateWebhookSecretPayload", "The endpoint and its new secret (shown this once)."),
    description: "Replaces an endpoint's signing secret; the old one keeps signing beside it for a grace period (`webhook-signature` then carries both).",
    authScopes: WRITE,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true, description: "Which endpoint, and the new secret." }) },
    resolve: (_root, { input }, ctx) => webhooks.rotateWebhookSecret(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook"), input, settings(ctx)),
  }),
  disableWebhook: t.field({
    type: WebhookPayload("DisableWebhookPayload", "The DISABLED endpoint."),
    description: "Stops deliveries to an ACTIVE endpoint; its undelivered events wait, in order, for enableWebhook.",
    authScopes: WRITE,
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: DisableWebhookInput, required: true, description: "Which endpoint." }) },
    resolve: async (_root, { input }, ctx) => ({ webhook: await webhooks.disableWebhook(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook"), input.reason) }),
  }),
  enableWebhook: t.field({
    type: WebhookPayload("EnableWebhookPayload", "The ACTIVE endpoint."),
    description: "Resumes a DISABLED endpoint where it stopped: its oldest undelivered event goes out next, at once.",
    authScopes: WRITE,
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: WebhookIdInput("EnableWebhookInput", "Which endpoint to enable."), required: true, description: "Which endpoint." }) },
    resolve: async (_root, { input }, ctx) => ({ webhook: await webhooks.enableWebhook(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook")) }),
  }),
  deleteWebhook: t.field({
    type: DeleteWebhookPayload,
    description: "Deletes an endpoint and its delivery log.",
    authScopes: WRITE,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: WebhookIdInput("DeleteWebhookInput", "Which endpoint to delete."), required: true, description: "Which endpoint." }) },
    resolve: async (_root, { input }, ctx) => {
      const id = await webhooks.deleteWebhook(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook"));
      return { webhookId: encodeGlobalID("Webhook", id) };
    },
  }),
  redeliverWebhookDelivery: t.field({
    type: RedeliverPayload,
    description: "Sends a finished delivery's event to its endpoint again, with the same `webhook-id`, after what the endpoint has queued.",
    authScopes: WRITE,
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: RedeliverInput, required: true, description: "Which delivery." }) },
    resolve: async (_root, { input }, ctx) => ({ delivery: await webhooks.redeliver(ctx.db, actorOf(ctx), rawId(input.deliveryId, "WebhookDelivery")) }),
  }),
  replayWebhook: t.field({
    type: WebhookPayload("ReplayWebhookPayload", "The endpoint, its cursor moved back."),
    description: "Sends an endpoint's matching events after a cursor again, in order, after what it has queued (receivers deduplicate by `webhook-id`).",
    authScopes: WRITE,
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ReplayWebhookInput, required: true, description: "Which endpoint, and from where." }) },
    resolve: async (_root, { input }, ctx) => {
      let after: bigint;
      try {
        after = parseCursor(input.after)!;
      } catch {
        throw new InvalidInputError([{ path: "input.after", message: "must be an event cursor (a decimal log position)" }]);
      }
      return { webhook: await webhooks.replayWebhook(ctx.db, actorOf(ctx), rawId(input.webhookId, "Webhook"), after) };
    },
  }),
}));
