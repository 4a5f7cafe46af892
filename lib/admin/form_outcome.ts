/** How a refused catalog save becomes what a form shows: field errors, or the current record after a stale edit. */
import { DomainError } from "../booking/errors.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError } from "../store/errors.ts";

/** The outcome of a catalog form. */
export type FormOutcome<T, F extends string> =
  | { ok: true; record: T }
  | { ok: false; errors: Partial<Record<F, string>>; problem: string | null; current?: T };

/** A stale edit: 409 `stale_edit` with the record as it is now and its version. */
export function staleEdit(what: string, current: unknown, version: string): DomainError {
  return new DomainError(
    409,
    "stale_edit",
    `Someone changed this ${what} after you opened it, so nothing was changed. Its current values are shown.`,
    { current, version },
  );
}

/**
 * Maps a refusal: ValidationError issues to their fields (`fieldOf` renames a record path to a
 * form field), a ConflictError code to the field `conflicts` names, a stale edit to `current`.
 * Anything else is rethrown.
 */
export function refusalOf<T, F extends string>(
  err: unknown,
  fieldOf: (path: string) => F,
  conflicts: Record<string, [F, string]>,
): FormOutcome<T, F> {
  if (err instanceof ValidationError) {
    const errors: Partial<Record<F, string>> = {};
    for (const i of err.issues) errors[fieldOf(i.path)] ??= `This ${i.message}.`;
    return { ok: false, errors, problem: null };
  }
  if (err instanceof ConflictError && conflicts[err.code]) {
    const [field, sentence] = conflicts[err.code];
    return { ok: false, errors: { [field]: sentence } as Partial<Record<F, string>>, problem: null };
  }
  if (err instanceof DomainError && err.code === "stale_edit") {
    return { ok: false, errors: {}, problem: err.message, current: (err.details as { current: T }).current };
  }
  throw err;
}
