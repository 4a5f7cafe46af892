/** A rule of the booking domain said no. Carries the HTTP status and snake_case code the API returns. */
export class DomainError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 410 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

/** 404 for a missing entity. */
export function notFound(what: string, id: string): DomainError {
  return new DomainError(404, `${what}_not_found`, `No ${what.replaceAll("_", " ")} with id ${id}.`);
}
