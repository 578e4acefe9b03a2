/**
 * Interactive transactions that PostgreSQL aborts as deadlock (40P01) or serialization (40001)
 * victims run again instead of failing the request; any other error fails at once.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { TRANSACTION_ATTEMPTS } from "../src/db/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { leaseSweepIntervalMs: 0 } });
  await server.db.prisma.workspace.createMany({ data: [{ id: "lock-a", name: "a" }, { id: "lock-b", name: "b" }], skipDuplicates: true });
});
afterAll(() => server?.stop());

/** The error Prisma raises when PostgreSQL picks a transaction as a deadlock victim. */
const deadlockVictim = () => Object.assign(new Error("deadlock detected"), { code: "P2010", meta: { driverAdapterError: { cause: { originalCode: "40P01" } } } });

it(`runs a transaction aborted as a deadlock victim again, at most ${TRANSACTION_ATTEMPTS} times, and nothing else twice`, async () => {
  let runs = 0;
  const result = await server.db.prisma.$transaction(async (tx) => {
    runs++;
    await tx.workspace.update({ where: { id: "lock-a" }, data: { name: `run ${runs}` } });
    if (runs === 1) throw deadlockVictim();
    return runs;
  });
  expect(result).toBe(2);
  // The aborted run left nothing: the name is the second run's.
  expect((await server.db.prisma.workspace.findUniqueOrThrow({ where: { id: "lock-a" } })).name).toBe("run 2");

  runs = 0;
  await expect(server.db.prisma.$transaction(async () => {
    runs++;
    throw deadlockVictim();
  })).rejects.toThrow("deadlock detected");
  expect(runs).toBe(TRANSACTION_ATTEMPTS);

  runs = 0;
  await expect(server.db.prisma.$transaction(async () => {
    runs++;
    throw new Error("a bug");
  })).rejects.toThrow("a bug");
  expect(runs).toBe(1);
});

if (onPostgres) {
  it("lets both sides of a real deadlock commit: PostgreSQL aborts one, and it runs again", async () => {
    let arrived = 0;
    let bothLocked!: () => void;
    const barrier = new Promise<void>((resolve) => (bothLocked = resolve));
    let runs = 0;
    // Opposite lock orders, each waiting for the other to hold its first row: a certain deadlock.
    const lockBoth = (first: string, second: string) =>
      server.db.prisma.$transaction(async (tx) => {
        runs++;
        await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${first} FOR UPDATE`;
        if (++arrived === 2) bothLocked();
        await barrier;
        await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${second} FOR UPDATE`;
        return first;
      });
    expect(await Promise.all([lockBoth("lock-a", "lock-b"), lockBoth("lock-b", "lock-a")])).toEqual(["lock-a", "lock-b"]);
    expect(runs).toBe(3);
  });
}
