/** Decoding of global ids in mutation inputs. */
import { type EntityType, NotFoundError } from "../errors.ts";

/**
 * The raw id inside a decoded global id of the expected type. An id of another type is answered
 * exactly like an unknown id of the expected type.
 */
export function rawId(id: { typename: string; id: string }, type: EntityType): string {
  if (id.typename !== type) throw new NotFoundError(type, id.id);
  return id.id;
}
