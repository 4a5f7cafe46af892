/**
 * Every API failure as `{error, message, details?}` with the right status. Known failures come
 * from the domain (DomainError, ValidationError) or the store (NotFoundError, ConflictError);
 * anything else is a bug: logged (without request secrets) and answered 500.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { DomainError } from "../booking/errors.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "../store/errors.ts";

/** The JSON body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** An HTTP-level failure raised by the API layer itself (auth, parsing, limits). */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Extra response headers (e.g. `Retry-After` with a 429). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Maps a thrown value to a status and error body. */
export function describeError(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError || err instanceof DomainError) {
    return {
      status: err.status,
      body: { error: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) },
    };
  }
  if (err instanceof ValidationError) {
    return {
      status: 400,
      body: { error: "invalid_request", message: err.message, details: { issues: err.issues } },
    };
  }
  if (err instanceof NotFoundError) {
    return { status: 404, body: { error: `${err.entity}_not_found`, message: `No ${err.entity} with id ${err.id}.` } };
  }
  if (err instanceof ConflictError) {
    return { status: 409, body: { error: err.code, message: err.message } };
  }
  if (err instanceof HTTPException && err.status < 500) {
    return { status: err.status, body: { error: "bad_request", message: err.message || "Bad request." } };
  }
  return {
    status: 500,
    body: { error: "internal_error", message: "Something went wrong on our side; it was logged." },
  };
}

/** Hono `onError` for the API: JSON errors, and a log line (never headers or bodies) for bugs. */
export function apiErrorHandler(err: Error, c: Context): Response {
  const { status, body } = describeError(err);
  if (err instanceof ApiError) { for (const [k, v] of Object.entries(err.headers ?? {})) c.header(k, v); }
  if (status >= 500) {
    console.error(`API ${c.req.method} ${new URL(c.req.url).pathname} failed:`, err);
  }
  return c.json(body, status as 400);
}
