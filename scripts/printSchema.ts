/**
 * `npm run schema` writes schema.graphql from the code (sorted); `npm run schema:check` exits 1
 * when the checked-in file is stale.
 */
import fs from "node:fs";
import { lexicographicSortSchema, printSchema } from "graphql";
import { getSchema } from "../src/schema/index.ts";

const file = new URL("../schema.graphql", import.meta.url);
const printed = `${printSchema(lexicographicSortSchema(getSchema()))}\n`;

if (process.argv.includes("--check")) {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (current !== printed) {
    console.error("schema.graphql is stale: run `npm run schema` and commit the result.");
    process.exit(1);
  }
  console.log("schema.graphql is up to date.");
} else {
  fs.writeFileSync(file, printed);
  console.log("wrote schema.graphql");
}
