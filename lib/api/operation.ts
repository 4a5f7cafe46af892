/**
 * One API operation = one object: method, path, who may call it, zod schemas for params, query and
 * body, documented responses, and a handler. `mountOperations` registers them on Hono with the
 * shared request pipeline (correlation id, auth, strict parsing, idempotency; the body size is
 * capped app-wide before it, lib/http/body_limit.ts); the OpenAPI document is generated from the
 * same objects, so the two cannot drift apart.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import type { Actor, Origin } from "../booking/events.ts";
import { hashRequest, type IdempotencyRequest } from "../booking/idempotency.ts";
import { formatZodIssues, readableErrors } from "../domain/validation.ts";
import { type Access, decide, rolesOf } from "../access/matrix.ts";
import { type Principal, resolvePrincipal } from "../auth/principal.ts";
import { sessionSettings } from "../auth/sessions.ts";
import { clientOf } from "../http/client_address.ts";
import { recordAuthFailure, tooManyFailuresMessage } from "../http/failure_limit.ts";
import { type Services, services } from "../services.ts";
import { ApiError } from "./errors.ts";
import { runIdempotent } from "./idempotency.ts";

/** Largest accepted request body (enforced app-wide by lib/http/body_limit.ts, see lib/app.ts). */
export const MAX_BODY_BYTES = 64 * 1024;

type AnyObject = z.ZodObject<z.ZodRawShape>;

/** Who may call an operation: a rule of the access matrix or one of its shorthands (lib/access/matrix.ts). */
export type { Access };

/** How an operation treats the `Idempotency-Key` header. */
export type IdempotencyMode =
  /** The handler passes `ctx.idempotency` to the booking engine, which stores the result atomically. */
  | "engine"
  /** The pipeline claims the key, runs the handler and stores its response. */
  | "stored"
  | "none";

/** What a handler receives. */
export interface OperationContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Null only on public operations. */
  principal: Principal | null;
  services: Services;
  correlationId: string;
  /** Present when the caller sent an `Idempotency-Key` on an "engine" operation. */
  idempotency?: IdempotencyRequest;
  /** The actor for events and audit: who, from where (web, api, admin) and why. */
  actor(reason?: string | null): Actor;
  /** The signed-in principal; throws 401 when there is none. */
  requirePrincipal(): Principal;
  hono: Context;
}

/** What a handler returns. */
export interface OperationResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A documented response. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Media type of a non-JSON answer (e.g. `text/csv`); its handler returns the body as a string. */
  mediaType?: string;
}

/** An API operation. Paths are OpenAPI style under `/api` (e.g. `/v1/holds/{id}`). */
export interface Operation<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B = unknown> {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Kept for older clients; OpenAPI marks it `deprecated` (the description names what replaces it). */
  deprecated?: boolean;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: z.ZodType<B>;
  /** True when the body may be omitted (treated as `{}`). */
  bodyOptional?: boolean;
  idempotency?: IdempotencyMode;
  responses: Record<number, ResponseSpec>;
  handler(ctx: OperationContext<z.output<P>, z.output<Q>, B>): Promise<OperationResult>;
}

/** Response header marking a replayed idempotent response. */
export function replayedHeader(replayed: boolean): Record<string, string> {
  return replayed ? { "idempotent-replayed": "true" } : {};
}

/** Declares an operation (typed helper; returns its argument). */
export function defineOperation<P extends AnyObject = AnyObject, Q extends AnyObject = AnyObject, B = unknown>(
  op: Operation<P, Q, B>,
): Operation {
  return op as unknown as Operation;
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;
/** A valid `Idempotency-Key`: 1–200 visible ASCII characters (also documented in the OpenAPI document). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value, { error: readableErrors });
  if (r.success) return r.data;
  const issues = formatZodIssues(r.error.issues).map((i) => ({
    path: i.path ? `${where}.${i.path}` : where,
    message: i.message,
  }));
  throw new ApiError(
    400,
    "invalid_request",
    `Invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
    { issues },
  );
}

function queryObject(c: Context): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URL(c.req.url).searchParams) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Reads the body as UTF-8 text; its size is capped before any route runs (lib/http/body_limit.ts). */
async function readBody(c: Context): Promise<string> {
  const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, "malformed_body", "The request body is not valid UTF-8.");
  }
}

async function parseBody(c: Context, op: Operation): Promise<{ value: unknown; canonical: string }> {
  const text = await readBody(c);
  if (!text.trim()) {
    if (op.bodyOptional) return { value: parseWith(op.body!, {}, "body"), canonical: "{}" };
    throw new ApiError(400, "missing_body", "This endpoint needs a JSON request body.");
  }
  const type = c.req.header("content-type");
  if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Send the request body as application/json.");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "malformed_json", `The request body is not valid JSON: ${(err as Error).message}`);
  }
  return { value: parseWith(op.body!, raw, "body"), canonical: JSON.stringify(raw) };
}

function originOf(principal: Principal | null): Origin {
  if (!principal) return "api";
  if (principal.via === "session") return "web";
  return principal.roles.includes("admin") ? "admin" : "api";
}

/** Rejects cookie-authenticated writes from another site (the page session cookie is ambient). */
function assertSameOrigin(c: Context): void {
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  const own = new URL(c.req.url).origin;
  if ((origin && origin !== own) || (site && site !== "same-origin" && site !== "none")) {
    throw new ApiError(403, "cross_site_request", "Cookie-authenticated writes must come from this site.");
  }
}

async function authorize(c: Context, op: Operation, s: Services): Promise<Principal | null> {
  const { principal, failure } = await resolvePrincipal(s.kv, c.req.raw.headers, {
    adminToken: s.config.adminToken,
    sessions: sessionSettings(s.config),
  });
  if (failure) {
    // Only failures are counted, after the credential was checked: a valid token always works.
    const verdict = await recordAuthFailure(s.kv, "bearer", clientOf(c.req.raw), s.config.authFailureLimit);
    if (verdict.retryAfterS !== null) {
      throw new ApiError(429, "too_many_failures", tooManyFailuresMessage(verdict.retryAfterS), undefined, {
        "retry-after": String(verdict.retryAfterS),
      });
    }
    throw new ApiError(401, "invalid_token", "The bearer token is not valid.");
  }
  const decision = decide(op.access, principal ? principal.roles : null);
  if (decision === "unauthenticated") {
    throw new ApiError(401, "unauthenticated", "Sign in or send Authorization: Bearer <token>.");
  }
  if (decision === "forbidden") {
    throw new ApiError(403, "forbidden", `This needs one of these roles: ${rolesOf(op.access).join(", ")}.`);
  }
  if (!principal) return null;
  if (principal.via === "session" && op.method !== "get") assertSameOrigin(c);
  return principal;
}

/** The Hono handler for one operation. */
function handlerFor(op: Operation) {
  return async (c: Context): Promise<Response> => {
    const s = services();
    const given = c.req.header("x-correlation-id");
    const correlationId = given && CORRELATION_ID.test(given) ? given : crypto.randomUUID();
    c.header("x-correlation-id", correlationId);
    const principal = await authorize(c, op, s);
    const params = op.params ? parseWith(op.params, c.req.param(), "params") : {};
    const query = parseWith(op.query ?? z.strictObject({}), queryObject(c), "query");
    const body = op.body ? await parseBody(c, op) : { value: undefined, canonical: "" };
    const headerKey = c.req.header("idempotency-key");
    const mode = op.idempotency ?? "none";
    if (headerKey !== undefined && mode !== "none" && !IDEMPOTENCY_KEY.test(headerKey)) {
      throw new ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1–200 visible ASCII characters.");
    }
    const idem: IdempotencyRequest | undefined = headerKey && mode !== "none"
      ? {
        scope: principal?.userId ?? `bootstrap-${principal?.via ?? "anonymous"}`,
        key: headerKey,
        bodyHash: await hashRequest([op.method, new URL(c.req.url).pathname, body.canonical]),
      }
      : undefined;
    const ctx: OperationContext<unknown, unknown, unknown> = {
      params,
      query,
      body: body.value,
      principal,
      services: s,
      correlationId,
      idempotency: mode === "engine" ? idem : undefined,
      actor: (reason) => ({
        userId: principal?.userId ?? null,
        roles: principal?.roles ?? [],
        origin: originOf(principal),
        correlationId,
        reason: reason ?? null,
      }),
      requirePrincipal: () => {
        if (!principal) throw new ApiError(401, "unauthenticated", "Sign in or send Authorization: Bearer <token>.");
        return principal;
      },
      hono: c,
    };
    const run = () => op.handler(ctx as OperationContext<never, never, never>);
    let result: OperationResult & { replayed?: boolean };
    if (mode === "stored" && idem) {
      result = await runIdempotent(s.kv, idem, async () => {
        const r = await run();
        return { status: r.status, body: r.body };
      });
    } else {
      result = await run();
    }
    for (const [k, v] of Object.entries(result.headers ?? {})) c.header(k, v);
    if (result.replayed) c.header("idempotent-replayed", "true");
    if (result.status === 204) return c.body(null, 204);
    // A text answer (its media type documented in `responses`, its content type in `headers`).
    if (typeof result.body === "string") return c.body(result.body, result.status as 200);
    return c.json(result.body as object, result.status as 200);
  };
}

/** Converts `/v1/holds/{id}` to Hono's `/v1/holds/:id`. */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
}

/** Registers operations on a Hono app (mounted under `/api`). */
export function mountOperations(app: Hono, ops: readonly Operation[]): void {
  for (const op of ops) app.on(op.method.toUpperCase(), honoPath(op.path), handlerFor(op));
}
