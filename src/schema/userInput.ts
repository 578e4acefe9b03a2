/**
 * Queries and subscriptions have no result union: a service's InvalidInputError about their
 * arguments becomes a top-level BAD_USER_INPUT error naming every issue.
 */
import { GraphQLError } from "graphql";
import { InvalidInputError } from "../errors.ts";

/** Runs `fn`, turning an InvalidInputError into a BAD_USER_INPUT GraphQL error with its issues. */
export async function asUserInput<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw new GraphQLError(error.message, { extensions: { code: "BAD_USER_INPUT", issues: error.issues.map((i) => ({ ...i })) } });
  }
}
