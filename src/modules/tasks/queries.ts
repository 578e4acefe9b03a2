/** Read access to tasks. */
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { TaskPriorityEnum, TaskRef, TaskStatusEnum } from "./types.ts";

const TaskFilter = builder.inputType("TaskFilter", {
  description: "Narrows a list of tasks. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [TaskStatusEnum], required: false, description: "Any of these statuses (FAILED alone lists the dead letters)." }),
    type: t.stringList({ required: false, description: "Any of these types." }),
    priority: t.field({ type: [TaskPriorityEnum], required: false, description: "Any of these priorities." }),
    assignee: t.globalID({ required: false, description: "Held by this agent." }),
    swarm: t.globalID({ required: false, description: "Belonging to this swarm." }),
  }),
});

type Filter = { status?: string[] | null; type?: string[] | null; priority?: string[] | null; assignee?: { typename: string; id: string } | null; swarm?: { typename: string; id: string } | null };

function taskWhere(workspaceId: string, filter: Filter | null | undefined): Prisma.TaskWhereInput {
  // An id of the wrong type matches nothing, like an unknown id.
  const idOf = (ref: { typename: string; id: string } | null | undefined, type: string) => (ref ? (ref.typename === type ? ref.id : "") : undefined);
  return {
    workspaceId,
    status: filter?.status ? { in: filter.status as Prisma.EnumTaskStatusFilter["in"] } : undefined,
    type: filter?.type ? { in: filter.type } : undefined,
    priority: filter?.priority ? { in: filter.priority as Prisma.EnumTaskPriorityFilter["in"] } : undefined,
    assigneeId: idOf(filter?.assignee, "Agent"),
    swarmId: idOf(filter?.swarm, "Swarm"),
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
      description: "Tasks of your workspace, newest first.",
      authScopes: { scope: "tasks:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: TaskFilter, required: false, description: "Conditions the tasks must meet." }) },
      resolve: (query, _root, { filter }, ctx) =>
        ctx.db.task.findMany({ ...query, where: taskWhere(actorOf(ctx).workspaceId, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { filter }, ctx) => ctx.db.task.count({ where: taskWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of tasks."),
    { description: "A task in a page." },
  ),
}));
