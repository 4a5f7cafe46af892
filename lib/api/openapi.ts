/**
 * The OpenAPI 3.1 document, generated from the operation objects themselves (zod → JSON Schema),
 * so what is documented is exactly what is validated.
 */
import { z } from "zod";
import { AUDIENCES, rolesOf, toRule } from "../access/matrix.ts";
import { IDEMPOTENCY_KEY, MAX_BODY_BYTES, type Operation } from "./operation.ts";
import { ErrorSchema } from "./v1/schemas.ts";

type JsonSchema = Record<string, unknown>;

const COMPONENT_REF = "#/components/schemas/";

/**
 * Converts zod schemas to JSON Schema for the document. zod puts the schemas named with
 * `.meta({ id })` in a `$defs` of each converted schema, with refs `#/$defs/<id>` that would
 * resolve against the document root; they are hoisted into `components/schemas` (under their id,
 * or `<id>Input` for a request schema) and the refs rewritten. Two different schemas under one name
 * throw, so every name stays unique and stable.
 */
class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The JSON Schema of `s` as a request (`input`) or response (`output`) shape. */
  convert(s: z.ZodType, io: "input" | "output"): JsonSchema {
    const out = z.toJSONSchema(s, { io, unrepresentable: "any", reused: "inline" }) as JsonSchema;
    const { $schema: _schema, $defs, ...root } = out as JsonSchema & { $defs?: Record<string, JsonSchema> };
    const names = new Map(Object.keys($defs ?? {}).map((id) => [id, io === "input" ? `${id}Input` : id]));
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (!node || typeof node !== "object") return node;
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => {
          if (k === "$ref" && typeof v === "string") {
            // `#` (a schema referring to itself) would also mean the document root: name it instead.
            const name = v.startsWith("#/$defs/") ? names.get(v.slice("#/$defs/".length)) : undefined;
            if (!name) throw new Error(`OpenAPI: ref ${v} cannot be hoisted; name the schema with .meta({ id })`);
            return [k, COMPONENT_REF + name];
          }
          return [k, rewrite(v)];
        }),
      );
    };
    for (const [id, def] of Object.entries($defs ?? {})) {
      const name = names.get(id)!;
      const schema = rewrite(def) as JsonSchema;
      const known = this.schemas[name];
      if (known && JSON.stringify(known) !== JSON.stringify(schema)) {
        throw new Error(`OpenAPI: two different schemas are named ${name}; give one another .meta({ id })`);
      }
      this.schemas[name] = schema;
    }
    return rewrite(root) as JsonSchema;
  }
}

function parametersOf(op: Operation, components: SchemaComponents): unknown[] {
  const params: unknown[] = [];
  const add = (obj: z.ZodObject<z.ZodRawShape> | undefined, where: "path" | "query") => {
    if (!obj) return;
    const json = components.convert(obj, "input") as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      params.push({
        name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  add(op.params, "path");
  add(op.query, "query");
  if (op.idempotency && op.idempotency !== "none") {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "1–200 visible ASCII characters. A retry with the same key and body within 24 h returns the " +
        "first response (header `Idempotent-Replayed: true`); the same key with another body → 422.",
      schema: { type: "string", minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY.source },
    });
  }
  return params;
}

/**
 * The failures the shared pipeline (`mountOperations`) can answer on an operation whatever its
 * handler does, derived from the operation object so none can go undocumented.
 */
function pipelineFailures(op: Operation): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const add = (status: number, why: string) => out.set(status, [...(out.get(status) ?? []), why]);
  const body = op.body !== undefined;
  const idempotent = op.idempotency !== undefined && op.idempotency !== "none";
  add(
    400,
    "invalid_request: a parameter" + (body ? " or the body" : "") + " does not match the schema (details.issues)" +
      (body ? "; missing_body, malformed_json, malformed_body (not UTF-8)" : "") +
      (idempotent ? "; invalid_idempotency_key" : ""),
  );
  add(
    401,
    isPublic(op)
      ? "invalid_token: a bearer token was sent and is not valid (none is needed)"
      : "unauthenticated (no credentials) or invalid_token",
  );
  add(429, "too_many_failures: too many failed authentications from this address; see Retry-After");
  const roles = rolesOf(op.access);
  if (roles.length < AUDIENCES.length - 1) add(403, `forbidden: needs one of these roles: ${roles.join(", ")}`);
  if (!isPublic(op) && op.method !== "get") {
    add(403, "cross_site_request: a write signed in by cookie from another site");
  }
  if (op.idempotency === "stored") add(409, "idempotency_in_progress: the first request with this key still runs");
  if (body) {
    add(413, `payload_too_large: the body is larger than ${MAX_BODY_BYTES} bytes`);
    add(415, "unsupported_media_type: the body is not application/json");
  }
  if (idempotent) add(422, "idempotency_key_reused: this Idempotency-Key came with another body");
  add(500, "A bug: logged on the server");
  return out;
}

function isPublic(op: Operation): boolean {
  return toRule(op.access).anonymous !== undefined;
}

/** Builds the OpenAPI document for these operations (paths relative to `/api`). */
export function buildOpenApi(ops: readonly Operation[], version: string): Record<string, unknown> {
  const components = new SchemaComponents();
  const errorRef = components.convert(ErrorSchema, "output");
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    const generic = pipelineFailures(op);
    const statuses = [...new Set([...Object.keys(op.responses).map(Number), ...generic.keys()])].sort((a, b) => a - b);
    const responses: Record<string, unknown> = {};
    for (const status of statuses) {
      const spec = op.responses[status];
      const description = [...new Set([spec?.description, ...(generic.get(status) ?? [])])].filter(Boolean).join("; ");
      const schema = spec?.schema && spec.schema !== ErrorSchema
        ? components.convert(spec.schema, "output")
        : status >= 400
        ? errorRef
        : undefined;
      const media = spec?.mediaType ?? "application/json";
      responses[String(status)] = { description, ...(schema ? { content: { [media]: { schema } } } : {}) };
    }
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.deprecated ? { deprecated: true } : {}),
      tags: [op.tag],
      security: isPublic(op) ? [] : [{ bearer: [] }, { session: [] }],
      ...(rolesOf(op.access).length < AUDIENCES.length - 1 ? { "x-roles": rolesOf(op.access) } : {}),
      "x-access": toRule(op.access),
      parameters: parametersOf(op, components),
      ...(op.body
        ? {
          requestBody: {
            required: !op.bodyOptional,
            content: { "application/json": { schema: components.convert(op.body, "input") } },
          },
        }
        : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Training-session booking API",
      version,
      description: "Seat holds, bookings, waitlists and sessions. Errors are `{error, message, details?}`.",
    },
    servers: [{ url: "/api" }],
    tags: [...new Set(ops.map((o) => o.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A per-user token (`deno task token <email>`)" },
        session: { type: "apiKey", in: "cookie", name: "tb_session", description: "Page session (sign-in)" },
      },
    },
  };
}
