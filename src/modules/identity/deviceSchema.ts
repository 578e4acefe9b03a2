/**
 * The device flow in GraphQL (src/modules/identity/device.ts has the rules): an approver reads
 * and decides a request by its user code; the waiting device subscribes with its device code and
 * gets its token pushed the moment the decision commits.
 */
import { GraphQLError } from "graphql";
import { actorOf, type Context } from "../../context.ts";
import type { DeviceAuthorization } from "../../generated/prisma/client.ts";
import { IllegalTransitionError, NotFoundError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { DECIDED_EVENT, decideDeviceAuthorization, deviceOutcome, type DeviceOutcome, formatUserCode, pendingByUserCode, UserCodeRateLimited } from "./device.ts";
import { deviceHolder, issueTokenPair } from "./issue.ts";

const DeviceAuthorizationStatusEnum = builder.enumType("DeviceAuthorizationStatus", {
  description: "Where a device authorization stands: PENDING → APPROVED or DENIED (by a person).",
  values: {
    PENDING: { description: "Waiting for a person to approve or deny the user code." },
    APPROVED: { description: "Approved: the device gets (or got) its token." },
    DENIED: { description: "Denied: the device gets no token." },
  } as const,
});

const DeviceAuthorizationRequestRef = builder.objectRef<DeviceAuthorization>("DeviceAuthorizationRequest").implement({
  description: "What a device asks for, as the person deciding sees it.",
  fields: (t) => ({
    userCode: t.string({ description: "The user code (XXXX-XXXX).", resolve: (r) => formatUserCode(r.userCode) }),
    clientId: t.exposeString("clientId", { description: "What the device calls itself (its OAuth client_id): check it is the one you started." }),
    requestedScopes: t.exposeStringList("requestedScopes", { description: "The scopes it asks for; empty: it asks for whatever you grant." }),
    status: t.expose("status", { type: DeviceAuthorizationStatusEnum, description: "PENDING until someone decides." }),
    workspaceId: t.exposeString("workspaceId", { nullable: true, description: "The workspace its token is for: the approver's; null until approved." }),
    grantedScopes: t.exposeStringList("grantedScopes", { description: "The scopes granted; empty until approved." }),
    decidedBy: t.exposeString("decidedBy", { nullable: true, description: "Subject of the token that approved or denied it." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", description: "When the codes expire if nobody decides." }),
  }),
});

const DeviceAuthorizationStateEnum = builder.enumType("DeviceAuthorizationState", {
  description: "What the waiting device learns.",
  values: {
    PENDING: { description: "Nobody decided yet; keep waiting (the update comes by itself)." },
    APPROVED: { description: "Approved: this update carries the token pair (delivered once)." },
    DENIED: { description: "A person denied the request; start again if that was a mistake." },
    EXPIRED: { description: "Nobody decided in time; start again." },
    ALREADY_REDEEMED: { description: "The token was already delivered (to another subscription or a poll)." },
  } as const,
});

interface DeviceUpdate {
  state: "PENDING" | "APPROVED" | "DENIED" | "EXPIRED" | "ALREADY_REDEEMED";
  message: string;
  accessToken?: string;
  refreshToken?: string;
  expiresIn?: number;
  scopes?: string[];
  workspaceId?: string;
}

const DeviceAuthorizationUpdateRef = builder.objectRef<DeviceUpdate>("DeviceAuthorizationUpdate").implement({
  description: "The state of a device authorization, pushed to the device; the APPROVED update carries its tokens.",
  fields: (t) => ({
    state: t.field({ type: DeviceAuthorizationStateEnum, description: "Where it stands.", resolve: (u) => u.state }),
    message: t.exposeString("message", { description: "The state in words." }),
    accessToken: t.string({ nullable: true, description: "APPROVED: the access token (signed with the server's key pair).", resolve: (u) => u.accessToken ?? null }),
    refreshToken: t.string({ nullable: true, description: "APPROVED: a refresh token for POST /oauth/token (grant_type=refresh_token, client_id = the device's); it rotates on each use.", resolve: (u) => u.refreshToken ?? null }),
    expiresIn: t.int({ nullable: true, description: "APPROVED: seconds the access token lives.", resolve: (u) => u.expiresIn ?? null }),
    scopes: t.stringList({ nullable: true, description: "APPROVED: the scopes granted.", resolve: (u) => u.scopes ?? null }),
    workspaceId: t.string({ nullable: true, description: "APPROVED: the workspace the token is for.", resolve: (u) => u.workspaceId ?? null }),
  }),
});

function rateLimited<T>(action: () => Promise<T>): Promise<T> {
  return action().catch((error: unknown) => {
    if (error instanceof UserCodeRateLimited) throw new GraphQLError(error.message, { extensions: { code: "RATE_LIMITED" } });
    throw error;
  });
}

const DecideInput = (name: string, description: string, withScopes: boolean) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      userCode: t.string({ required: true, description: "The user code the device shows (XXXX-XXXX; case and dashes do not matter)." }),
      ...(withScopes ? { scopes: t.stringList({ required: false, description: "Grant only these of the scopes asked for (default: all asked for that you hold)." }) } : {}),
    }),
  });

const DecidePayload = (name: string) =>
  builder.objectRef<{ request: DeviceAuthorization }>(name).implement({
    description: "The request after the decision.",
    fields: (t) => ({ request: t.field({ type: DeviceAuthorizationRequestRef, description: "The device authorization.", resolve: (p) => p.request }) }),
  });

const ApproveInput = DecideInput("ApproveDeviceAuthorizationInput", "Which device request to approve, and with which scopes.", true);
const DenyInput = DecideInput("DenyDeviceAuthorizationInput", "Which device request to deny.", false);

builder.queryFields((t) => ({
  deviceAuthorizationRequest: t.field({
    type: DeviceAuthorizationRequestRef,
    description: `What the device showing this user code asks for, before you decide. Needs admin. Wrong codes count: after 5 within 15 minutes, further lookups and decisions answer RATE_LIMITED.`,
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError] },
    args: { userCode: t.arg.string({ required: true, description: "The user code the device shows." }) },
    resolve: (_root, { userCode }, ctx) => rateLimited(() => pendingByUserCode(ctx.db, ctx.identity.deviceAttempts, actorOf(ctx), userCode)),
  }),
}));

builder.mutationFields((t) => ({
  approveDeviceAuthorization: t.field({
    type: DecidePayload("ApproveDeviceAuthorizationPayload"),
    description: "Approves a device's request into your workspace: the device gets a token with the granted scopes (which you must hold) at once, by subscription or its next poll. Needs admin; wrong codes are rate-limited.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: ApproveInput, required: true, description: "The user code and, optionally, fewer scopes." }) },
    resolve: async (_root, { input }, ctx) => ({
      request: await rateLimited(() =>
        decideDeviceAuthorization(ctx.db, ctx.identity.deviceAttempts, actorOf(ctx), ctx.viewer!.scopes, input.userCode, { approve: true, scopes: (input as { scopes?: string[] | null }).scopes }),
      ),
    }),
  }),
  denyDeviceAuthorization: t.field({
    type: DecidePayload("DenyDeviceAuthorizationPayload"),
    description: "Denies a device's request: it gets access_denied (DENIED by subscription). Needs admin; wrong codes are rate-limited.",
    authScopes: { scope: "admin" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: DenyInput, required: true, description: "The user code." }) },
    resolve: async (_root, { input }, ctx) => ({
      request: await rateLimited(() => decideDeviceAuthorization(ctx.db, ctx.identity.deviceAttempts, actorOf(ctx), ctx.viewer!.scopes, input.userCode, { approve: false })),
    }),
  }),
}));

/** The update a device gets for an outcome; an approval issues the token pair here. */
async function updateOf(ctx: Context, outcome: DeviceOutcome): Promise<DeviceUpdate> {
  switch (outcome.kind) {
    case "pending":
      return { state: "PENDING", message: `waiting for a person to approve the user code (until ${outcome.expiresAt.toISOString()})` };
    case "denied":
      return { state: "DENIED", message: `the request was denied by ${outcome.by}` };
    case "expired":
      return { state: "EXPIRED", message: `the device code expired at ${outcome.at.toISOString()}; start again` };
    case "redeemed":
      return { state: "ALREADY_REDEEMED", message: "the token was already delivered for this device code" };
    case "approved": {
      const pair = await issueTokenPair({ db: ctx.db, keys: ctx.identity.keys, config: ctx.config }, deviceHolder(outcome.row), outcome.row.grantedScopes, { grantType: "device_code" });
      return { state: "APPROVED", message: `approved by ${outcome.row.decidedBy}`, ...pair, workspaceId: outcome.row.workspaceId! };
    }
  }
}

async function* watchDevice(ctx: Context, deviceCode: string): AsyncGenerator<DeviceUpdate> {
  // Listen before reading, so a decision committed in between still wakes us; any decision
  // wakes every waiting device, which then re-reads its own row (decisions are rare).
  let wake: () => void = () => undefined;
  let woken = false;
  const unlisten = ctx.events.bus.listenAll((event) => {
    if (event.type !== DECIDED_EVENT) return;
    woken = true;
    wake();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    let first = true;
    for (;;) {
      woken = false;
      const outcome = await deviceOutcome(ctx.db, deviceCode, { poll: false });
      if (!outcome) throw new GraphQLError("unknown device code", { extensions: { code: "BAD_USER_INPUT" } });
      if (outcome.kind !== "pending") {
        yield await updateOf(ctx, outcome);
        return;
      }
      if (first) yield await updateOf(ctx, outcome);
      first = false;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, Math.max(outcome.expiresAt.getTime() - Date.now(), 0) + 50);
      });
      clearTimeout(timer);
    }
  } finally {
    clearTimeout(timer);
    unlisten();
  }
}

builder.subscriptionFields((t) => ({
  deviceAuthorization: t.field({
    type: DeviceAuthorizationUpdateRef,
    description:
      "For the waiting device (no token needed: the device code is its secret): PENDING at once, then the decision the moment a person makes it — APPROVED with the token pair (delivered once), DENIED, or EXPIRED — and the stream ends. The standard alternative is polling POST /oauth/token.",
    args: { deviceCode: t.arg.string({ required: true, description: "The device_code from POST /oauth/device_authorization." }) },
    subscribe: (_root, { deviceCode }, ctx) => watchDevice(ctx, deviceCode),
    resolve: (update) => update,
  }),
}));
