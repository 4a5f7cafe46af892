import assert from "node:assert/strict";
import { dereference, validate } from "@readme/openapi-parser";
import { z } from "zod";
import { API_OPERATIONS } from "../../lib/api/mod.ts";
import { buildOpenApi } from "../../lib/api/openapi.ts";
import { defineOperation, IDEMPOTENCY_KEY, type Operation } from "../../lib/api/operation.ts";
import type { Body } from "./client.ts";
import { startApiFixture } from "./fixture.ts";

/** Every `$ref` value in a JSON tree (cycles are followed once). */
function collectRefs(node: unknown, seen = new Set<unknown>()): string[] {
  if (!node || typeof node !== "object" || seen.has(node)) return [];
  seen.add(node);
  return Object.entries(node).flatMap(([k, v]) => k === "$ref" && typeof v === "string" ? [v] : collectRefs(v, seen));
}

/** The document type the validator declares. */
type ApiDocument = Exclude<Parameters<typeof validate>[0], string>;
type ValidationResult = { valid: boolean; errors?: { message: string }[]; warnings: unknown[] };

async function validateDocument(doc: Body): Promise<ValidationResult> {
  const copy = structuredClone(doc) as ApiDocument;
  return await validate(copy, { validate: { errors: { colorize: false } } }) as ValidationResult;
}

Deno.test("[api] openapi.json passes an independent OpenAPI 3.1 validator and every $ref resolves", async () => {
  const f = await startApiFixture();
  try {
    const res = await f.anonymous.get<Body>("/api/openapi.json");
    assert.equal(res.status, 200);
    const doc = res.body;
    const result = await validateDocument(doc);
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
    assert.deepEqual(result.warnings, []);

    const refs = collectRefs(doc);
    assert.ok(refs.length >= API_OPERATIONS.length, `${refs.length} refs`);
    for (const ref of new Set(refs)) {
      const name = /^#\/components\/schemas\/([A-Za-z0-9]+)$/.exec(ref)?.[1];
      assert.ok(name && doc.components.schemas[name], `${ref} points into components/schemas`);
    }
    assert.ok(!JSON.stringify(doc).includes("$defs"), "no $defs left anywhere");
    const full = await dereference(structuredClone(doc) as ApiDocument) as Body;
    assert.deepEqual(collectRefs(full), [], "dereferenced: no $ref left");
    assert.ok(full.paths?.["/v1/holds"]?.post?.responses?.["201"], "dereferenced document keeps its operations");

    // The validator is not vacuous: the refs the document used to have are reported.
    const broken = structuredClone(doc);
    broken.paths["/v1/holds"].post.responses["201"].content["application/json"].schema = {
      $ref: "#/$defs/HoldView",
    };
    const refused = await validateDocument(broken);
    assert.equal(refused.valid, false);
    assert.match(JSON.stringify(refused.errors), /\$defs\/HoldView/);
  } finally {
    await f.close();
  }
});

Deno.test("[api] openapi.json documents the Idempotency-Key pattern and the pipeline's failures on every operation", async () => {
  const f = await startApiFixture();
  try {
    const doc = (await f.anonymous.get<Body>("/api/openapi.json")).body;
    for (const op of API_OPERATIONS) {
      const d = doc.paths[op.path][op.method];
      const has = (status: number) => assert.ok(d.responses[String(status)], `${op.operationId} documents ${status}`);
      for (const status of [400, 401, 500]) has(status);
      if (Array.isArray(op.access) || (op.access !== "public" && op.method !== "get")) has(403);
      if (op.body) [413, 415].forEach(has);
      const key = d.parameters.find((p: Body) => p.name === "Idempotency-Key");
      if (op.idempotency && op.idempotency !== "none") {
        has(422);
        assert.deepEqual(key.schema, {
          type: "string",
          minLength: 1,
          maxLength: 200,
          pattern: IDEMPOTENCY_KEY.source,
        });
      } else {
        assert.equal(key, undefined, op.operationId);
      }
      for (const [status, r] of Object.entries(d.responses as Record<string, Body>)) {
        assert.ok(r.description, `${op.operationId} ${status} has a description`);
        if (Number(status) >= 400) {
          assert.deepEqual(r.content["application/json"].schema, { $ref: "#/components/schemas/Error" });
        }
      }
    }
    for (const id of ["placeHold", "getHold", "releaseHold", "joinWaitlist", "leaveWaitlist", "getBooking"]) {
      const op = API_OPERATIONS.find((o) => o.operationId === id)!;
      assert.match(doc.paths[op.path][op.method].responses["403"].description, /forbidden/, id);
    }
    const pattern = new RegExp(doc.paths["/v1/holds"].post.parameters[0].schema.pattern);
    assert.ok(pattern.test("retry-1") && !pattern.test("with space") && !pattern.test("é"));
    // What the document says is what the server checks.
    const [ann] = await f.learners(1);
    const s = await f.session();
    const refused = await ann.api.post<Body>("/api/v1/holds", { sessionId: s.id }, { "idempotency-key": "a b" });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, "invalid_idempotency_key");
  } finally {
    await f.close();
  }
});

Deno.test("[api] openapi.json date parameters refuse 0000-00-00 and other impossible dates, like the server", async () => {
  const f = await startApiFixture();
  try {
    const doc = (await f.anonymous.get<Body>("/api/openapi.json")).body;
    const dateParams = [
      ...doc.paths["/v1/sessions"].get.parameters.filter((p: Body) => p.name === "from" || p.name === "to"),
      ...doc.paths["/v1/slots"].get.parameters.filter((p: Body) => p.name === "date"),
    ];
    assert.equal(dateParams.length, 3);
    for (const p of dateParams) {
      const pattern = new RegExp(p.schema.pattern);
      for (const good of ["2026-12-01", "2024-02-29", "2000-02-29"]) assert.ok(pattern.test(good), `${p.name} ${good}`);
      for (const bad of ["0000-00-00", "2026-00-10", "2026-13-01", "2026-02-30", "2100-02-29", "2026-1-1"]) {
        assert.ok(!pattern.test(bad), `${p.name} ${bad}`);
      }
    }
    const hub = await f.location();
    for (const bad of ["0000-00-00", "2026-02-30"]) {
      const res = await f.anonymous.get<Body>(`/api/v1/slots?hub=${hub.id}&date=${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.details.issues[0].path, "query.date");
    }
  } finally {
    await f.close();
  }
});

Deno.test("[api] openapi components: named schemas are hoisted once under their id; two schemas under one name fail", () => {
  const Thing = z.object({ id: z.string() }).meta({ id: "Thing" });
  const op = (operationId: string, schema: z.ZodType): Operation =>
    defineOperation({
      method: "get",
      path: `/v1/${operationId}`,
      operationId,
      summary: operationId,
      tag: "Test",
      access: "public",
      responses: { 200: { description: "ok", schema } },
      handler: () => Promise.resolve({ status: 200, body: {} }),
    });
  const doc = buildOpenApi([op("one", Thing), op("many", z.object({ things: z.array(Thing) }))], "t") as Body;
  assert.deepEqual(Object.keys(doc.components.schemas).sort(), ["Error", "Thing"]);
  assert.deepEqual(doc.paths["/v1/one"].get.responses["200"].content["application/json"].schema, {
    $ref: "#/components/schemas/Thing",
  });
  assert.deepEqual(
    doc.paths["/v1/many"].get.responses["200"].content["application/json"].schema.properties.things.items,
    { $ref: "#/components/schemas/Thing" },
  );
  assert.deepEqual(buildOpenApi([op("one", Thing)], "t"), buildOpenApi([op("one", Thing)], "t"), "stable");

  const Tree: z.ZodType = z.lazy(() => z.object({ kids: z.array(Tree) })).meta({ id: "Tree" });
  const tree = buildOpenApi([op("tree", z.object({ root: Tree }))], "t") as Body;
  assert.deepEqual(tree.components.schemas.Tree.properties.kids.items, { $ref: "#/components/schemas/Tree" });
  const Anonymous: z.ZodType = z.lazy(() => z.object({ kids: z.array(Anonymous) }));
  assert.throws(() => buildOpenApi([op("anonymous", Anonymous)], "t"), /ref # cannot be hoisted/);

  const Other = z.object({ name: z.string() }).meta({ id: "Thing" });
  assert.throws(
    () => buildOpenApi([op("one", Thing), op("other", Other)], "t"),
    /two different schemas are named Thing/,
  );
});
