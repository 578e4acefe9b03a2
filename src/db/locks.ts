/**
 * Row locks for state transitions: inside a transaction, `lockRow` reads the row's current
 * status with `SELECT … FOR UPDATE`, so the legality check and the write that follows cannot
 * interleave with another transition of the same row. Scoped to the caller's workspace: a row of
 * another workspace is reported as missing.
 */
import { IllegalTransitionError, NotFoundError } from "../errors.ts";
import type { Db } from "./client.ts";

/** Tables with a status column that transitions lock. Fixed names: never user input. */
export type LockableTable = "Agent" | "Swarm" | "Task" | "Finding" | "Conflict";

export interface LockedRow<Status extends string> {
  id: string;
  status: Status;
}

export async function lockRow<Status extends string>(
  tx: Db,
  table: LockableTable,
  id: string,
  workspaceId: string,
  mode: "UPDATE" | "SHARE" = "UPDATE",
): Promise<LockedRow<Status> | undefined> {
  const rows = await tx.$queryRawUnsafe<LockedRow<Status>[]>(
    `SELECT id, status::text AS status FROM "${table}" WHERE id = $1 AND "workspaceId" = $2 FOR ${mode}`,
    id,
    workspaceId,
  );
  return rows[0];
}

/**
 * Locks the row and checks that `action` is allowed from its status.
 * @throws NotFoundError when the row is not in the workspace
 * @throws IllegalTransitionError when the status does not allow the action
 */
export async function lockForTransition<Status extends string>(
  tx: Db,
  target: { table: LockableTable; id: string; workspaceId: string },
  action: string,
  allowedFrom: readonly Status[],
): Promise<LockedRow<Status>> {
  const row = await lockRow<Status>(tx, target.table, target.id, target.workspaceId);
  if (!row) throw new NotFoundError(target.table, target.id);
  if (!allowedFrom.includes(row.status)) {
    throw new IllegalTransitionError(target.table, target.id, row.status, action, allowedFrom);
  }
  return row;
}

/**
 * Takes a transaction-scoped advisory lock on `key` within `namespace` (released at commit or
 * rollback). Serializes work on something that has no row to lock yet, e.g. "the findings on one
 * subject". Keys are hashed with PostgreSQL's hashtext: a collision only serializes more than needed.
 * The two-key form keeps these locks apart from the migrator's single-key lock.
 */
export async function advisoryXactLock(tx: Db, namespace: number, key: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${namespace}::int, hashtext(${key}))`;
}
