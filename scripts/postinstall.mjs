// Runs after `npm install`/`npm ci` (and as `npm run db:generate`): generates the Prisma client
// and Pothos types from prisma/schema.prisma, then the typed GraphQL documents from codegen.ts.
// Offline-safe: `prisma generate` only needs a schema engine *path* to skip its binary download,
// and the prisma-client generator itself is pure TypeScript.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

const run = (cmd, args, env = {}) => execFileSync(cmd, args, { stdio: "inherit", env: { ...process.env, ...env } });

if (!fs.existsSync("prisma/schema.prisma")) process.exit(0); // installed as a dependency elsewhere
run("npx", ["--no-install", "prisma", "generate"], { PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/true", PRISMA_HIDE_UPDATE_MESSAGE: "1" });
if (process.argv.includes("--prisma-only")) process.exit(0);
run("npx", ["--no-install", "graphql-codegen", "--config", "codegen.ts"]);
