/**
 * Test client for /api: calls the app in process and checks every response against what the
 * OpenAPI document declares for that operation and status (the status is documented, and the body
 * matches both the zod schema and the published JSON Schema, which also refuses undocumented
 * fields), so each API test is also a contract test.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import * as formatsModule from "ajv-formats";
import type { FormatsPlugin } from "ajv-formats";
import type { Hono } from "hono";
import { z } from "zod";
import { API_OPERATIONS } from "../../lib/api/mod.ts";
import { buildOpenApi } from "../../lib/api/openapi.ts";
import { honoPath, type Operation } from "../../lib/api/operation.ts";
import { ErrorSchema } from "../../lib/api/v1/schemas.ts";

// ajv-formats is CommonJS; its default export arrives one level down depending on the loader.
const formatsExport = formatsModule as unknown as { default: FormatsPlugin & { default?: FormatsPlugin } };
const addFormats: FormatsPlugin = formatsExport.default.default ?? formatsExport.default;

/** A loosely typed JSON body: tests read deep fields and assert on them. */
// deno-lint-ignore no-explicit-any
export type Body = Record<string, any>;

/** A response as tests see it. */
export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

function findOperation(method: string, path: string): Operation | undefined {
  return API_OPERATIONS.find((op) =>
    op.method === method.toLowerCase() &&
    new RegExp(`^/api${honoPath(op.path).replace(/:[^/]+/g, "[^/]+")}$`).test(path)
  );
}

/** Calls the API as one caller. */
export class ApiClient {
  constructor(readonly app: Hono, readonly token: string | null = null, readonly extraHeaders: HeadersInit = {}) {}

  /** The same app as another caller. */
  as(token: string | null): ApiClient {
    return new ApiClient(this.app, token, this.extraHeaders);
  }

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> {
    const h = new Headers(this.extraHeaders);
    if (this.token) h.set("authorization", `Bearer ${this.token}`);
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === "string" ? body : JSON.stringify(body);
      if (!h.has("content-type")) h.set("content-type", "application/json");
    }
    const res = await this.app.fetch(new Request(`http://test${path}`, { method, headers: h, body: payload }));
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(`${method} ${path} → ${res.status} answered non-JSON: ${text.slice(0, 200)}`);
      }
    }
    if (res.status >= 500) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
    checkContract(method, path.split("?")[0], res.status, parsed);
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get<T = Record<string, unknown>>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, undefined, headers);
  }
  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers);
  }
  patch<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("PATCH", path, body, headers);
  }
  put<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("PUT", path, body, headers);
  }
  delete<T = Record<string, unknown>>(path: string, headers?: Record<string, string>) {
    return this.request<T>("DELETE", path, undefined, headers);
  }
}

const DOCUMENT_ID = "urn:test:openapi";
let published: { ajv: Ajv2020; doc: Record<string, unknown> } | null = null;
const validators = new Map<string, ValidateFunction>();

/** The JSON Schema validator of one documented response, or null when it has no body. */
function publishedValidator(op: Operation, status: number): ValidateFunction | null {
  if (!published) {
    const doc = buildOpenApi(API_OPERATIONS, "test");
    // The whole document is registered so `#/components/schemas/…` refs resolve as tools resolve them.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addFormat("ulid", /^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$/);
    ajv.addSchema({ ...doc, $id: DOCUMENT_ID });
    published = { ajv, doc };
  }
  const pointer = ["paths", op.path, op.method, "responses", String(status), "content", "application/json", "schema"];
  let node: unknown = published.doc;
  for (const part of pointer) node = (node as Record<string, unknown> | undefined)?.[part];
  if (node === undefined) return null;
  const ref = `${DOCUMENT_ID}#/${pointer.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;
  let validate = validators.get(ref);
  if (!validate) {
    validate = published.ajv.compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

/** Throws when a response does not match what the OpenAPI document promises. */
export function checkContract(method: string, path: string, status: number, body: unknown): void {
  const op = findOperation(method, path);
  if (status >= 400) {
    const r = ErrorSchema.safeParse(body);
    if (!r.success) throw new Error(`${method} ${path} → ${status}: error body breaks the contract: ${r.error}`);
  }
  if (!op) return; // openapi.json, docs, unknown paths
  const validate = publishedValidator(op, status);
  if (!op.responses[status] && !validate) {
    throw new Error(`${method} ${path} answered ${status}, which ${op.operationId} does not document`);
  }
  if (validate && !validate(body)) {
    const problems = validate.errors!.map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
    throw new Error(`${method} ${path} → ${status}: body breaks the published schema: ${problems.join("; ")}`);
  }
  if (status >= 400) return;
  const spec = op.responses[status];
  if (spec.schema) {
    const r = (spec.schema as z.ZodType).safeParse(body);
    if (!r.success) {
      throw new Error(
        `${method} ${path} → ${status}: body breaks ${op.operationId}'s schema: ${z.prettifyError(r.error)}`,
      );
    }
  }
}
