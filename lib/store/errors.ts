/** Thrown when a record that must exist does not. */
export class NotFoundError extends Error {
  override name = "NotFoundError";
  constructor(readonly entity: string, readonly id: string) {
    super(`${entity} ${id} not found`);
  }
}

/** Machine-readable reasons for a {@link ConflictError}. */
export type ConflictCode =
  | "exists"
  | "email_taken"
  | "slug_taken"
  | "code_taken"
  | "concurrent_update"
  | "over_capacity"
  | "duplicate_place"
  | "invalid_state";

/**
 * Thrown when a write clashes with stored state: a unique value already
 * taken, a concurrent update, or a capacity limit.
 */
export class ConflictError extends Error {
  override name = "ConflictError";
  constructor(readonly code: ConflictCode, message: string) {
    super(message);
  }
}
