import assert from "node:assert/strict";
import { buildRouteTable, compareRoutes, layoutsFor, routePath } from "./routes.ts";
import type { Manifest } from "./types.ts";

const page = { default: () => null };

Deno.test("[fresh] routePath maps index, [id], [...rest] and (group)", () => {
  assert.deepEqual(routePath("index").patterns, ["/"]);
  assert.deepEqual(routePath("about").patterns, ["/about"]);
  assert.deepEqual(routePath("blog/index").patterns, ["/blog"]);
  assert.deepEqual(routePath("users/[id]").patterns, ["/users/:id"]);
  assert.deepEqual(routePath("(shop)/cart/[item]").patterns, ["/cart/:item"]);
  const docs = routePath("docs/[...rest]");
  assert.deepEqual(docs.patterns, ["/docs", "/docs/:rest{.+}"]);
  assert.equal(docs.route, "/docs/:rest*");
  assert.equal(docs.catchAll, "rest");
  assert.deepEqual(routePath("[...all]").patterns, ["/", "/:all{.+}"]);
});

Deno.test("[fresh] routePath rejects partial and misplaced dynamic segments", () => {
  assert.throws(() => routePath("post-[id]"), /Unsupported route segment/);
  assert.throws(() => routePath("[...a]/b"), /must be the last segment/);
});

Deno.test("[fresh] static routes sort before dynamic ones whatever the file order", () => {
  const paths = ["[...all]", "users/[id]", "[slug]/edit", "users/new", "index"]
    .map(routePath);
  const order = paths.sort(compareRoutes).map((p) => p.route);
  assert.deepEqual(order, [
    "/",
    "/users/new",
    "/users/:id",
    "/:slug/edit",
    "/:all*",
  ]);
});

Deno.test("[fresh] buildRouteTable classifies special files", () => {
  const manifest: Manifest = {
    baseUrl: "file:///app/fresh.gen.ts",
    islands: {},
    routes: {
      "./routes/_app.tsx": page,
      "./routes/_404.tsx": page,
      "./routes/_500.tsx": page,
      "./routes/_layout.tsx": page,
      "./routes/_middleware.ts": { handler: () => new Response() },
      "./routes/admin/_middleware.ts": { handler: [() => new Response()] },
      "./routes/users/[id]/_middleware.ts": { handler: () => new Response() },
      "./routes/(g)/_middleware.ts": { handler: () => new Response() },
      "./routes/users/[id].tsx": page,
      "./routes/users/new.tsx": page,
      "./routes/api/ping.ts": { handler: () => new Response("pong") },
    },
  };
  const table = buildRouteTable(manifest);
  assert.ok(table.app && table.notFound && table.error);
  assert.deepEqual(table.routes.map((r) => r.route), [
    "/api/ping",
    "/users/new",
    "/users/:id",
  ]);
  assert.deepEqual(
    table.middlewares.map((m) => m.pattern),
    ["*", "*", "/admin/*", "/users/:id/*"],
  );
});

Deno.test("[fresh] buildRouteTable rejects modules without default or handler", () => {
  const manifest: Manifest = {
    baseUrl: "file:///app/fresh.gen.ts",
    islands: {},
    routes: { "./routes/helpers.ts": {} },
  };
  assert.throws(() => buildRouteTable(manifest), /neither a default component/);
});

Deno.test("[fresh] layoutsFor nests outer to inner and honours skipInheritedLayouts", () => {
  const layout = (name: string, config = {}) => ({ default: () => name, config });
  const manifest: Manifest = {
    baseUrl: "file:///app/fresh.gen.ts",
    islands: {},
    routes: {
      "./routes/_layout.tsx": layout("root"),
      "./routes/a/_layout.tsx": layout("a"),
      "./routes/a/b/_layout.tsx": layout("b"),
      "./routes/x/_layout.tsx": layout("x", { skipInheritedLayouts: true }),
    },
  };
  const table = buildRouteTable(manifest);
  const keys = (dirs: string[], config = {}) => layoutsFor(table, dirs, config).map((l) => l.key);
  assert.deepEqual(keys(["a", "b"]), [
    "./routes/_layout.tsx",
    "./routes/a/_layout.tsx",
    "./routes/a/b/_layout.tsx",
  ]);
  assert.deepEqual(keys(["x"]), ["./routes/x/_layout.tsx"]);
  assert.deepEqual(keys(["a"], { skipInheritedLayouts: true }), []);
});
