/** Read access to tasks. */
import { actorOf } from "../../context.ts";
import { InvalidInputError } from "../../errors.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { OrderDirectionEnum } from "../agents/types.ts";
import { TaskPriorityEnum, TaskRef, TaskStatusEnum } from "./types.ts";

const TaskFilter = builder.inputType("TaskFilter", {
  description: "Narrows a list of tasks. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum], required: false, description: "Any of these statuses (FAILED alone lists the dead letters)." }),
    type: t.stringList({ required: false, description: "Any of these types." }),
    priority: t.field({ type: [TaskPriorityEnum], required: false, description: "Any of these priorities." }),
    assignee: t.globalID({ required: false, description: "Held by this agent." }),
    swarm: t.globalID({ required: false, description: "Belonging to this swarm." }),
    parent: t.globalID({ required: false, description: "Direct subtasks of this task." }),
    topLevel: t.boolean({ required: false, description: "true: only tasks without a parent; false: only subtasks." }),
    depth: t.int({ required: false, description: "Only tasks at this depth of the task tree (seed 003's job depth): 0 for top-level tasks, 1 for their subtasks, … A negative depth is an InvalidInputError (BAD_USER_INPUT)." }),
    claimable: t.boolean({ required: false, description: "true: only tasks an agent could claim now (PENDING and past their retry delay)." }),
    createdAfter: t.field({ type: "DateTime", required: false, description: "Created at or after this instant." }),
    createdBefore: t.field({ type: "DateTime", required: false, description: "Created before this instant." }),
  }),
});

const TaskOrderField = builder.enumType("TaskOrderField", {
  description: "Fields tasks can be sorted by.",
  values: {
    CREATED_AT: { description: "Creation time." },
    PRIORITY: { description: "Priority (then creation time), the order claims use." },
    UPDATED_AT: { description: "Time of the last change." },
  } as const,
});

const TaskOrder = builder.inputType("TaskOrder", {
  description: "How to sort tasks. Ties are broken by id, so pages are stable.",
  fields: (t) => ({
    field: t.field({ type: TaskOrderField, required: true, description: "The field to sort by." }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: "DESC", description: "Sort direction (default DESC)." }),
  }),
});

type GlobalId = { typename: string; id: string } | null | undefined;
type Filter = {
  status?: string[] | null;
  type?: string[] | null;
  priority?: string[] | null;
  assignee?: GlobalId;
  swarm?: GlobalId;
  parent?: GlobalId;
  topLevel?: boolean | null;
  depth?: number | null;
  claimable?: boolean | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
};

function taskWhere(workspaceId: string, filter: Filter | null | undefined): Prisma.TaskWhereInput {
  if (filter?.depth != null && filter.depth < 0) throw new InvalidInputError([{ path: "filter.depth", message: "must be 0 or more" }]);
  // An id of the wrong type matches nothing, like an unknown id.
  const idOf = (ref: { typename: string; id: string } | null | undefined, type: string) => (ref ? (ref.typename === type ? ref.id : "") : undefined);
  return {
    workspaceId,
    status: filter?.status ? { in: filter.status as Prisma.EnumTaskStatusFilter["in"] } : undefined,
    type: filter?.type ? { in: filter.type } : undefined,
    priority: filter?.priority ? { in: filter.priority as Prisma.EnumTaskPriorityFilter["in"] } : undefined,
    assigneeId: idOf(filter?.assignee, "Agent"),
    swarmId: idOf(filter?.swarm, "Swarm"),
    AND: [
      filter?.parent ? { parentId: idOf(filter.parent, "Task") } : {},
      filter?.topLevel == null ? {} : { parentId: filter.topLevel ? null : { not: null } },
      filter?.depth == null ? {} : { depth: filter.depth },
      filter?.claimable == null ? {} : filter.claimable ? { status: "PENDING", availableAt: { lte: new Date() } } : { NOT: { status: "PENDING", availableAt: { lte: new Date() } } },
      { createdAt: { gte: filter?.createdAfter ?? undefined, lt: filter?.createdBefore ?? undefined } },
    ],
  };
}

builder.queryFields((t) => ({
  task: t.prismaField({
    type: TaskRef,
    nullable: true,
    description: "One task by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "tasks:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the task." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Task" ? ctx.db.task.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null,
  }),
  tasks: t.prismaConnection(
    {
      type: TaskRef,
      cursor: "id",
      description: "Tasks of your workspace, newest first unless `orderBy` says otherwise. `filter: { status: [FAILED] }` is the dead-letter list.",
      authScopes: { scope: "tasks:read" },
      maxSize: pageSizeLimit,
      args: {
        filter: t.arg({ type: TaskFilter, required: false, description: "Conditions the tasks must meet." }),
        orderBy: t.arg({ type: TaskOrder, required: false, description: "Sort order (default: newest first)." }),
      },
      resolve: (query, _root, { filter, orderBy }, ctx) => {
        const direction = (orderBy?.direction ?? "DESC") === "ASC" ? "asc" : "desc";
        const order: Prisma.TaskOrderByWithRelationInput[] =
          orderBy?.field === "PRIORITY"
            ? [{ priorityRank: direction }, { createdAt: direction === "desc" ? "asc" : "desc" }]
            : [{ [orderBy?.field === "UPDATED_AT" ? "updatedAt" : "createdAt"]: direction }];
        return ctx.db.task.findMany({ ...query, where: taskWhere(actorOf(ctx).workspaceId, filter), orderBy: [...order, { id: direction }] });
      },
      totalCount: (_root, { filter }, ctx) => ctx.db.task.count({ where: taskWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of tasks."),
    { description: "A task in a page." },
  ),
}));
