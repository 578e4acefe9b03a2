/** Read access to shared context. */
import { resolveOffsetConnection } from "@pothos/plugin-relay";
import { builder, offsetPageSizeLimit } from "../../schema/builder.ts";
import { asUserInput } from "../../schema/userInput.ts";
import { readerFor } from "../memory/types.ts";
import * as context from "./service.ts";
import { ContextItemRef } from "./types.ts";

const ContextItemFilter = builder.inputType("ContextItemFilter", {
  description: "Narrows a list of context items. All given conditions must hold.",
  fields: (t) => ({
    swarm: t.globalID({ required: false, description: "Reaching this swarm (WORKSPACE items reach every swarm)." }),
    namePrefix: t.string({ required: false, description: "Whose name starts with this." }),
  }),
});

builder.queryFields((t) => ({
  contextItem: t.field({
    type: ContextItemRef,
    nullable: true,
    description: "The context item named `name`; null when there is none you may see (absent, expired, or out of your scope). Selecting its data records a READ in its chain of custody.",
    authScopes: { scope: "memory:read" },
    args: { name: t.arg.string({ required: true, description: "The item's name." }) },
    resolve: (_root, { name }, ctx) => asUserInput(async () => context.contextByName(ctx.db, await readerFor(ctx), name)),
  }),
  contextItems: t.connection(
    {
      type: ContextItemRef,
      description: "Live context items you may see, by name.",
      authScopes: { scope: "memory:read" },
      args: { filter: t.arg({ type: ContextItemFilter, required: false, description: "Conditions the items must meet." }) },
      resolve: async (_root, args, ctx) => {
        const maxSize = offsetPageSizeLimit(args, ctx);
        const reader = await readerFor(ctx);
        const swarm = args.filter?.swarm;
        const filter = { swarmId: swarm ? (swarm.typename === "Swarm" ? swarm.id : "") : null, namePrefix: args.filter?.namePrefix };
        const connection = await resolveOffsetConnection({ args, maxSize }, (page) => context.listContext(ctx.db, reader, filter, page));
        return { ...connection, countAll: () => context.countContext(ctx.db, reader, filter) };
      },
    },
    {
      description: "A page of context items.",
      fields: (c) => ({
        totalCount: c.int({ description: "How many items match the filter, over all pages.", resolve: (connection) => (connection as { countAll?: () => Promise<number> }).countAll!() }),
      }),
    },
    { description: "A context item in a page." },
  ),
}));
