// Prisma CLI configuration. The server never reads this file: it builds its client from
// src/config.ts. `prisma generate` only needs the schema path; no database URL is required.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
