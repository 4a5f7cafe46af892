/**
 * Checks HTTP exchanges against Cal.com's own OpenAPI 3.0 document (`../shared/calcom/openapi-v2.json`):
 * finds the operation for a method and concrete path, then validates parameters (path, query,
 * required headers, the `cal-api-version` value), the request body and the response (status and
 * JSON body) with Ajv, resolving every `$ref`.
 *
 * OpenAPI 3.0 is not JSON Schema, so schemas are translated first:
 * - `nullable: true` becomes `anyOf: [schema, {type: "null"}]`; Cal.com's document also puts it
 *   beside `allOf`/`$ref` with no `type`, which Ajv's own `nullable` support refuses.
 * - `$ref` siblings are dropped (OpenAPI 3.0 ignores them), except `nullable`.
 * - `oneOf` is checked as `anyOf` by default: Cal.com's alternatives are open objects that overlap
 *   (a seat cancel `{seatUid}` matches both `CancelBookingInput` and `CancelSeatedBookingInput`,
 *   whose fields are all optional), so "exactly one" would reject valid traffic.
 *   `strictOneOf: true` keeps the letter of the document.
 * - Discriminator values that the document states only in prose ("only allowed value for type is
 *   `address`") become `enum`s, so a location without its required `public` is caught.
 * - `example`, `deprecated`, `discriminator`, `externalDocs` are dropped.
 * Error statuses are not documented at all (only 200/201 are), so a 4xx/5xx answer is checked
 * against Cal.com's error envelope `{status: "error", timestamp, path, error: {code, message}}`.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import * as formatsModule from "ajv-formats";
import type { FormatsPlugin } from "ajv-formats";
import { CALCOM_OPENAPI_PATH } from "./reference.ts";

// ajv-formats is CommonJS; its default export arrives one level down depending on the loader.
const formatsExport = formatsModule as unknown as { default: FormatsPlugin & { default?: FormatsPlugin } };
const addFormats: FormatsPlugin = formatsExport.default.default ?? formatsExport.default;

type Json = Record<string, unknown>;
type Method = "get" | "post" | "put" | "patch" | "delete";

interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required?: boolean;
  schema?: Json;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

/** The document operation a request maps to. */
export interface OperationMatch {
  operationId: string;
  method: string;
  /** The document's path template, e.g. `/v2/bookings/{bookingUid}/cancel`. */
  template: string;
  pathParams: Record<string, string>;
}

/** A request as the server saw it. */
export interface ContractRequest {
  method: string;
  /** Path with optional query (`/v2/bookings?take=10`) or a full URL. */
  url: string;
  headers: Headers | Record<string, string>;
  /** Parsed JSON body; `undefined` when there was none. */
  body?: unknown;
}

/** A response as the server sent it. */
export interface ContractResponse {
  status: number;
  /** Parsed JSON body; `undefined` when there was none. */
  body?: unknown;
}

/** One exchange that broke the contract. */
export interface ContractViolation {
  direction: "request" | "response";
  method: string;
  path: string;
  operationId?: string;
  status?: number;
  problems: string[];
}

/** Options of {@link OpenApiContract}. */
export interface ContractOptions {
  /** Check `oneOf` as "exactly one" (the document's letter) instead of "at least one". */
  strictOneOf?: boolean;
}

const ROOT_ID = "https://cal.invalid/openapi-v2.json";
const DROPPED = new Set(["nullable", "example", "examples", "deprecated", "discriminator", "externalDocs", "xml"]);
const MAX_PROBLEMS = 12;

/** Cal.com's error envelope (from its README facts; the document has no error schemas). */
const ERROR_ENVELOPE = {
  type: "object",
  required: ["status", "timestamp", "path", "error"],
  properties: {
    status: { enum: ["error"] },
    timestamp: { type: "string", format: "date-time" },
    path: { type: "string" },
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
};

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Translates one OpenAPI 3.0 schema object into JSON Schema for Ajv (see the module doc). */
export function toJsonSchema(schema: unknown, strictOneOf = false): unknown {
  if (!isObject(schema)) return schema;
  let out: Json = {};
  if (typeof schema.$ref === "string") {
    out.$ref = schema.$ref.replace(/^#\/components\/schemas\//, `${ROOT_ID}#/definitions/`);
  } else {
    for (const [key, value] of Object.entries(schema)) {
      if (DROPPED.has(key)) continue;
      if (key === "properties" && isObject(value)) {
        out.properties = Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, withProseConst(k, toJsonSchema(v, strictOneOf))]),
        );
      } else if ((key === "items" || key === "not" || key === "additionalProperties") && isObject(value)) {
        out[key] = toJsonSchema(value, strictOneOf);
      } else if ((key === "allOf" || key === "anyOf" || key === "oneOf") && Array.isArray(value)) {
        out[key === "oneOf" && !strictOneOf ? "anyOf" : key] = value.map((v) => toJsonSchema(v, strictOneOf));
      } else {
        out[key] = value;
      }
    }
  }
  if (schema.nullable === true) out = { anyOf: [out, { type: "null" }] };
  return out;
}

const PROSE_CONST = /only allowed value for (\w+) is `([^`]+)`/i;

/**
 * Cal.com states discriminator values only in prose (`type: {type: "string", description: "only
 * allowed value for type is \`address\`"}`, 59 times). Without them every location or booking-field
 * alternative accepts any `type`; this turns the sentence into `enum: [value]`.
 */
function withProseConst(name: string, schema: unknown): unknown {
  if (!isObject(schema) || schema.type !== "string" || schema.enum || typeof schema.description !== "string") {
    return schema;
  }
  const m = PROSE_CONST.exec(schema.description);
  return m && m[1] === name ? { ...schema, enum: [m[2]] } : schema;
}

function headerOf(headers: Headers | Record<string, string>, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? null : headers[key];
}

function formatErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    const params = e.keyword === "required"
      ? ""
      : e.keyword === "enum"
      ? ` ${JSON.stringify(e.params.allowedValues)}`
      : e.keyword === "additionalProperties"
      ? ` (${e.params.additionalProperty})`
      : "";
    seen.add(`${where}${e.instancePath} ${e.message}${params}`);
  }
  const all = [...seen];
  return all.length > MAX_PROBLEMS ? [...all.slice(0, MAX_PROBLEMS), `… ${all.length - MAX_PROBLEMS} more`] : all;
}

/** Coerces one query/path string to the parameter schema's type, for validation. */
function coerce(values: string[], schema: Json | undefined): unknown {
  const type = schema?.type;
  const one = (v: string, t: unknown): unknown => {
    if (t === "number" || t === "integer") return v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v;
    if (t === "boolean") return v === "true" ? true : v === "false" ? false : v;
    return v;
  };
  if (type === "array") {
    const items = isObject(schema?.items) ? schema.items : undefined;
    return values.flatMap((v) => v.split(",")).map((v) => one(v, items?.type));
  }
  return one(values[values.length - 1], type);
}

/** Cal.com's OpenAPI document, ready to check exchanges. */
export class OpenApiContract {
  readonly #doc: Json;
  readonly #ajv: Ajv;
  readonly #strictOneOf: boolean;
  readonly #cache = new Map<string, ValidateFunction>();
  readonly #routes: { method: Method; template: string; regex: RegExp; names: string[]; op: Operation }[] = [];

  /** Reads and prepares the document (default: `../shared/calcom/openapi-v2.json`). */
  static async load(path: string = CALCOM_OPENAPI_PATH, options: ContractOptions = {}): Promise<OpenApiContract> {
    return new OpenApiContract(JSON.parse(await Deno.readTextFile(path)), options);
  }

  /** Prepares an already parsed OpenAPI 3.0 document. */
  constructor(doc: Json, options: ContractOptions = {}) {
    this.#doc = doc;
    this.#strictOneOf = options.strictOneOf ?? false;
    this.#ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.#ajv);
    const components = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
    const definitions = Object.fromEntries(
      Object.entries(components).map(([name, s]) => [name, toJsonSchema(s, this.#strictOneOf)]),
    );
    this.#ajv.addSchema({ $id: ROOT_ID, definitions });
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [template, item] of Object.entries(paths)) {
      if (!isObject(item)) continue;
      const names: string[] = [];
      const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, name) => {
        names.push(name);
        return "([^/]+)";
      });
      for (const method of ["get", "post", "put", "patch", "delete"] as const) {
        const op = item[method];
        if (isObject(op)) {
          this.#routes.push({ method, template, regex: new RegExp(`^${source}$`), names, op: op as Operation });
        }
      }
    }
    // Literal paths before templated ones: the fewest parameters wins.
    this.#routes.sort((a, b) => a.names.length - b.names.length);
  }

  /** How many operations the document has (sanity checks). */
  get operationCount(): number {
    return this.#routes.length;
  }

  /** The operation for `method` and a concrete path (query ignored), or `undefined`. */
  findOperation(method: string, url: string): OperationMatch | undefined {
    const found = this.#find(method, url);
    if (!found) return undefined;
    return {
      operationId: found.route.op.operationId ?? `${found.route.method} ${found.route.template}`,
      method: found.route.method.toUpperCase(),
      template: found.route.template,
      pathParams: found.pathParams,
    };
  }

  /** Problems with a request (empty when it conforms). */
  checkRequest(request: ContractRequest): string[] {
    const url = new URL(request.url, "http://calcom.invalid");
    const found = this.#find(request.method, url.pathname);
    if (!found) return [`no operation ${request.method.toUpperCase()} ${url.pathname} in the document`];
    const { route, pathParams } = found;
    const problems: string[] = [];
    const declared = new Set<string>();
    for (const p of route.op.parameters ?? []) {
      const key = `${route.method} ${route.template} param ${p.in} ${p.name}`;
      if (p.in === "query") declared.add(p.name);
      let raw: string[];
      if (p.in === "path") raw = pathParams[p.name] === undefined ? [] : [decodeURIComponent(pathParams[p.name])];
      else if (p.in === "query") raw = url.searchParams.getAll(p.name);
      else if (p.in === "header") {
        const v = headerOf(request.headers, p.name);
        raw = v === null ? [] : [v];
      } else continue;
      if (raw.length === 0) {
        if (p.required) problems.push(`${p.in} parameter ${p.name} is required`);
        continue;
      }
      if (p.in === "header" && p.name.toLowerCase() === "cal-api-version" && typeof p.schema?.default === "string") {
        if (raw[0] !== p.schema.default) {
          problems.push(`header cal-api-version must be ${p.schema.default}, got ${raw[0]}`);
        }
        continue;
      }
      if (!p.schema) continue;
      const validate = this.#compile(key, p.schema);
      if (!validate(coerce(raw, p.schema))) problems.push(...formatErrors(`${p.in} ${p.name}`, validate.errors));
    }
    for (const name of new Set(url.searchParams.keys())) {
      if (!declared.has(name)) problems.push(`query parameter ${name} is not in the document`);
    }
    const content = route.op.requestBody?.content?.["application/json"];
    if (!content) {
      if (request.body !== undefined) problems.push("the operation takes no request body");
    } else if (request.body === undefined) {
      if (route.op.requestBody?.required) problems.push("a JSON request body is required");
    } else if (content.schema) {
      const validate = this.#compile(`${route.method} ${route.template} request`, content.schema);
      if (!validate(request.body)) problems.push(...formatErrors("body", validate.errors));
    }
    return problems;
  }

  /** Problems with a response to `method url` (empty when it conforms). */
  checkResponse(method: string, url: string, response: ContractResponse): string[] {
    const path = new URL(url, "http://calcom.invalid").pathname;
    const found = this.#find(method, path);
    if (!found) return [`no operation ${method.toUpperCase()} ${path} in the document`];
    const { route } = found;
    const documented = route.op.responses ?? {};
    const entry = documented[String(response.status)] ?? documented["default"];
    let schema: unknown;
    let key: string;
    if (entry) {
      schema = entry.content?.["application/json"]?.schema;
      key = `${route.method} ${route.template} response ${response.status}`;
      if (!schema) return response.body === undefined ? [] : [`status ${response.status} has no body in the document`];
    } else if (response.status >= 400) {
      schema = ERROR_ENVELOPE;
      key = "error envelope";
    } else {
      return [`status ${response.status} is not documented (documented: ${Object.keys(documented).join(", ")})`];
    }
    if (response.body === undefined) return ["a JSON response body is expected"];
    const validate = key === "error envelope" ? this.#compileRaw(key, ERROR_ENVELOPE) : this.#compile(key, schema);
    return validate(response.body) ? [] : formatErrors("response", validate.errors);
  }

  #find(method: string, url: string) {
    const path = new URL(url, "http://calcom.invalid").pathname;
    const m = method.toLowerCase();
    for (const route of this.#routes) {
      if (route.method !== m) continue;
      const match = route.regex.exec(path);
      if (!match) continue;
      const pathParams = Object.fromEntries(route.names.map((n, i) => [n, match[i + 1]]));
      return { route, pathParams };
    }
    return undefined;
  }

  #compile(key: string, openApiSchema: unknown): ValidateFunction {
    return this.#compileRaw(key, toJsonSchema(openApiSchema, this.#strictOneOf) as Json);
  }

  #compileRaw(key: string, schema: Json): ValidateFunction {
    let validate = this.#cache.get(key);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#cache.set(key, validate);
    }
    return validate;
  }

  /** The raw document (read-only use). */
  get document(): Json {
    return this.#doc;
  }
}
