/**
 * What clients see of an error that escaped a resolver. Expected failures keep their message and
 * get a code; everything else is masked ("Unexpected error.", INTERNAL_SERVER_ERROR) and logged.
 */
import { PothosValidationError } from "@pothos/core";
import { type ExecutionResult, GraphQLError } from "graphql";
import { maskError as yogaMaskError, type Plugin } from "graphql-yoga";
import { DomainError, InvalidInputError } from "./errors.ts";

/**
 * Yoga's `maskError`. A client's error is returned as the same object with its code added, so
 * Yoga does not log it as a server error:
 * - input that breaks a rule outside a result union (queries, subscriptions; malformed ids,
 *   cursors, page sizes) → BAD_USER_INPUT, with the offending fields in `issues` where known;
 * - a domain error that escaped a result union (e.g. from a query) → its own code.
 */
export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  if (error instanceof GraphQLError) {
    if (original instanceof InvalidInputError) return withExtensions(error, { code: "BAD_USER_INPUT", issues: original.issues });
    if (original instanceof PothosValidationError) return withExtensions(error, { code: "BAD_USER_INPUT" });
    if (original instanceof DomainError) return withExtensions(error, { code: original.code });
  }
  return yogaMaskError(error, message, isDev);
}

function withExtensions(error: GraphQLError, extensions: Record<string, unknown>): GraphQLError {
  Object.assign(error.extensions, extensions);
  return error;
}

/** Applies `map` to the errors of every single (non-streamed) execution and subscription result. */
function mapResultErrors(map: (errors: readonly GraphQLError[]) => GraphQLError[]): Pick<Plugin, "onExecute" | "onSubscribe"> {
  const mapped = ({ result, setResult }: { result: ExecutionResult | AsyncIterable<ExecutionResult>; setResult(result: ExecutionResult): void }) => {
    if (!(Symbol.asyncIterator in result) && result.errors?.length) setResult({ ...result, errors: map(result.errors) });
  };
  return { onExecute: () => ({ onExecuteDone: mapped }), onSubscribe: () => ({ onSubscribeResult: mapped }) };
}

/**
 * graphql-js reports a request it cannot run — variables of the wrong type, a missing operation
 * name — with an error that has no path and no code: it gets BAD_USER_INPUT (HTTP 400 stays).
 */
export function useCodedRequestErrors(): Plugin {
  return mapResultErrors((errors) => errors.map((error) => (error.path === undefined && error.extensions.code === undefined ? withExtensions(error, { code: "BAD_USER_INPUT" }) : error)));
}

/** The message without graphql-js' "Did you mean …?" hint, which would reveal names of the schema. */
export function withoutSuggestion(message: string): string {
  return message.replace(/ ?Did you mean [^]*$/, "");
}

function stripSuggestions<E extends GraphQLError>(errors: readonly E[]): GraphQLError[] {
  return errors.map((error) =>
    error.message.includes("Did you mean")
      ? new GraphQLError(withoutSuggestion(error.message), { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: error.extensions })
      : error,
  );
}

/**
 * Removes every "Did you mean …?" hint (unknown fields, arguments, enum values, input fields — at
 * validation and at variable coercion) from what clients see.
 */
export function useNoSuggestions(): Plugin {
  return {
    onValidate: () => ({ result, setResult }) => {
      if (result.length > 0) setResult(stripSuggestions(result));
    },
    ...mapResultErrors(stripSuggestions),
  };
}

