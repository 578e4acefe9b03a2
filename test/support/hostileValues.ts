/**
 * fast-check arbitraries of hostile GraphQL argument values, derived from the schema's input
 * types: NUL characters, lone surrogates, huge strings, deep and hostile JSON, extreme numbers and
 * instants, garbage global ids and cursors — mixed with well-formed values so resolvers are
 * reached, not only the argument checks.
 */
import fc from "fast-check";
import {
  type GraphQLArgument,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from "graphql";

/** Stands for a number JSON cannot write (1e400 parses to Infinity); see {@link serializeVariables}. */
const INFINITY = "__fuzz_infinity__";

/** The variables as a JSON body fragment, with the Infinity stand-ins written as 1e400. */
export function serializeVariables(variables: unknown): string {
  return JSON.stringify(variables).replaceAll(`"${INFINITY}"`, "1e400");
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  // Weighted towards storable oddities, so that most requests get past the input guard and
  // reach the database; the rest carry what must never get there.
  { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom("", " ", "'; DROP TABLE \"Agent\"; --", "%_\\", "\u202e\u0301", "😀".repeat(50), "null", "-1", "a:b/c.d") },
  { weight: 2, arbitrary: fc.constantFrom("\u0000", "a\u0000b", "\ud800", "x\udfffy", "\ud83d") },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom("\u0000", "\ud800", "\udc00")).map(([a, b]) => a + b) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => "word ".repeat(n / 5)) },
);

const TYPENAMES = ["Agent", "Swarm", "SwarmMember", "Task", "Quota", "Allocation", "Finding", "Conflict", "TokenRevocation", "Nope"];

/** Global ids: real ones, ids of every type around hostile raw ids, and garbage. */
export const hostileId = (realIds: readonly string[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...realIds),
    fc.tuple(fc.constantFrom(...TYPENAMES), hostileString).map(([type, id]) => base64(`${type}:${id}`)),
    hostileString,
    fc.uuid().map((id) => base64(`Task:${id}`)),
  );

/** Connection cursors: every tag Pothos knows, with hostile payloads. */
export const hostileCursor: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom("S", "N", "I", "D", "O", "T", "J", "B", "Z", "X"), fc.oneof(hostileString, fc.constantFrom("99999999999999999999999", "-1", "1e400", "NaN", "[1,2]", "{}", "8640000000000001"))).map(([tag, payload]) => base64(`GPC:${tag}:${payload}`)),
  hostileString,
  fc.uuid().map((id) => base64(`GPC:S:${id}`)),
);

const hostileInstant: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "+275760-09-13T00:00:00Z", "-000001-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "1970-01-01T00:00:00Z", "not a date"),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  hostileString,
);

const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 1e308, -1e308, 5e-324, 2 ** 53, 2 ** 31, -(2 ** 31) - 1, 0.5, INFINITY),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** JSON with hostile keys and values, occasionally nested far past any sane depth. */
const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(hostileString, fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })), { maxKeys: 5 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 3_000 }).map((depth) => nest(depth)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

function nest(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return typeof value === "object" && !Array.isArray(value) ? value : { a: value };
}

function scalar(name: string, argName: string, realIds: readonly string[]): fc.Arbitrary<unknown> {
  switch (name) {
    case "ID":
      return hostileId(realIds);
    case "String":
      return argName === "after" || argName === "before" ? hostileCursor : hostileString;
    case "Int":
      return argName === "first" || argName === "last"
        ? fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 100 }) }, { weight: 1, arbitrary: fc.constantFrom(-1, 101, 2_147_483_647) })
        : fc.oneof(fc.constantFrom(0, -1, 1, 100, 101, 2_147_483_647, -2_147_483_648), fc.integer({ min: -1_000, max: 1_000 }));
    case "Float":
      return hostileNumber;
    case "Boolean":
      return fc.boolean();
    case "DateTime":
      return hostileInstant;
    case "JSON":
    case "JSONObject":
      return hostileJson;
    default:
      return hostileString;
  }
}

/** Values for `type`: mostly well-typed (so resolvers run), sometimes of the wrong shape. */
export function valueOf(type: GraphQLInputType, argName: string, realIds: readonly string[], depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueOf(type.ofType, argName, realIds, depth);
  if (isListType(type)) {
    const item = valueOf(type.ofType, argName, realIds, depth + 1);
    return fc.oneof({ weight: 8, arbitrary: fc.array(item, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(item, { minLength: 150, maxLength: 150 }) });
  }
  if (isEnumType(type)) return fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...type.getValues().map((v) => v.name)) }, { weight: 1, arbitrary: hostileString });
  if (isScalarType(type)) return scalar(type.name, argName, realIds);
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    if (depth > 3) return fc.constant({});
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of fields) model[field.name] = valueOf(field.type, field.name, realIds, depth + 1);
    return fc.record(model, { requiredKeys: fields.filter((f) => isNonNullType(f.type)).map((f) => f.name) });
  }
  return fc.constant(null);
}

/** Variables for every argument of a field: the required ones always, the optional ones sometimes. */
export function argumentsOf(args: readonly GraphQLArgument[], realIds: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const arg of args) {
    const value = valueOf(arg.type, arg.name, realIds);
    // Paging backwards or from a cursor rarely: any cursor but a real one stops at the cursor check.
    model[arg.name] = ["after", "before", "last"].includes(arg.name) ? fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: value }) : value;
  }
  return fc.record(model, { requiredKeys: args.filter((a) => isNonNullType(a.type)).map((a) => a.name) });
}
