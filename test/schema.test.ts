/** schema.graphql is a product: printed from the code, sorted, and fully described. */
import fs from "node:fs";
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isUnionType, lexicographicSortSchema, printSchema } from "graphql";
import { expect, it } from "vitest";
import { getSchema } from "../src/schema/index.ts";

it("schema.graphql is up to date (run `npm run schema` if this fails)", () => {
  const printed = `${printSchema(lexicographicSortSchema(getSchema()))}\n`;
  expect(fs.readFileSync(new URL("../schema.graphql", import.meta.url), "utf8")).toBe(printed);
});

it("describes every type, field, argument, input field and enum value", () => {
  const missing: string[] = [];
  for (const type of Object.values(getSchema().getTypeMap())) {
    if (type.name.startsWith("__") || ["String", "Int", "Float", "Boolean", "ID"].includes(type.name)) continue;
    if (!type.description?.trim()) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description?.trim()) missing.push(`${type.name}.${field.name}`);
        for (const arg of "args" in field ? field.args : []) {
          if (!arg.description?.trim()) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (!value.description?.trim()) missing.push(`${type.name}.${value.name}`);
    }
    if (isUnionType(type) && type.getTypes().length === 0) missing.push(`${type.name} (empty union)`);
  }
  expect(missing).toEqual([]);
});
