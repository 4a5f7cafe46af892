/**
 * The OpenAPI 3.1 document, generated from the operation objects themselves (zod → JSON Schema),
 * so what is documented is exactly what is validated.
 */
import { z } from "zod";
import { MAX_BODY_BYTES, type Operation } from "./operation.ts";
import { ErrorSchema } from "./v1/schemas.ts";

type JsonSchema = Record<string, unknown>;

function schemaOf(s: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(s, { io, unrepresentable: "any", reused: "inline" }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parametersOf(op: Operation): unknown[] {
  const params: unknown[] = [];
  const add = (obj: z.ZodObject<z.ZodRawShape> | undefined, where: "path" | "query") => {
    if (!obj) return;
    const json = schemaOf(obj, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
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
      description: "A retry with the same key and body within 24 h returns the first response " +
        "(header `Idempotent-Replayed: true`); the same key with another body → 422.",
      schema: { type: "string", minLength: 1, maxLength: 200 },
    });
  }
  return params;
}

const COMMON_ERRORS: Record<number, string> = {
  400: "Invalid request: schema (details.issues), malformed JSON, unknown fields",
  401: "Missing or invalid credentials",
  413: `Body larger than ${MAX_BODY_BYTES} bytes`,
  500: "A bug: logged on the server",
};

/** Builds the OpenAPI document for these operations (paths relative to `/api`). */
export function buildOpenApi(ops: readonly Operation[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorRef = { $ref: "#/components/schemas/Error" };
  for (const op of ops) {
    const responses: Record<string, unknown> = {};
    const statuses = new Set<number>([...Object.keys(op.responses).map(Number)]);
    for (const s of [400, 500]) statuses.add(s);
    if (op.access !== "public") statuses.add(401);
    if (Array.isArray(op.access)) statuses.add(403);
    if (op.body) statuses.add(413);
    for (const status of [...statuses].sort()) {
      const spec = op.responses[status];
      const description = spec?.description ?? COMMON_ERRORS[status] ?? (status === 403 ? "Not allowed" : "");
      const schema = !spec?.schema || spec.schema === ErrorSchema ? (status >= 400 ? errorRef : undefined) : schemaOf(
        spec.schema,
        "output",
      );
      responses[String(status)] = {
        description,
        ...(schema ? { content: { "application/json": { schema } } } : {}),
      };
    }
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      security: op.access === "public" ? [] : [{ bearer: [] }, { devLogin: [] }],
      ...(Array.isArray(op.access) ? { "x-roles": op.access } : {}),
      parameters: parametersOf(op),
      ...(op.body
        ? {
          requestBody: {
            required: !op.bodyOptional,
            content: { "application/json": { schema: schemaOf(op.body, "input") } },
          },
        }
        : {}),
      responses,
    };
  }
  const { $schema: _drop, ...error } = z.toJSONSchema(ErrorSchema) as JsonSchema;
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
      schemas: { Error: error },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "A per-user token (`deno task token <email>`)" },
        devLogin: { type: "apiKey", in: "cookie", name: "tb_dev_user", description: "Dev sign-in (DEV_LOGIN=1 only)" },
      },
    },
  };
}
