import assert from "node:assert/strict";
import { newId } from "../domain/ids.ts";
import { ValidationError } from "../domain/validation.ts";
import { ConflictError } from "./errors.ts";
import { createLocation, getLocation, getLocationBySlug, listLocations } from "./locations.ts";
import { createCourse, getCourse, getCourseByCode, getCoursesByIds, listCourses } from "./courses.ts";
import { createDealer, listDealers } from "./dealers.ts";
import { invalidateCatalogCache, loadCatalog } from "./catalog_cache.ts";
import { keys } from "./keys.ts";
import { seedTinyCatalog, withKv } from "./test_helpers.ts";

Deno.test("[store] locations: create, read by id and slug, unique slug", async () => {
  await withKv(async (kv) => {
    const { atlanta } = await seedTinyCatalog(kv);
    assert.deepEqual(await getLocation(kv, atlanta.id), atlanta);
    assert.deepEqual(await getLocationBySlug(kv, "atlanta"), atlanta);
    assert.equal((await kv.get(keys.locationBySlug("atlanta"))).value, atlanta.id);
    assert.deepEqual((await listLocations(kv)).map((l) => l.slug), ["atlanta", "denver"]);
    await assert.rejects(
      createLocation(kv, { ...atlanta, id: undefined }),
      (e) => e instanceof ConflictError && e.code === "slug_taken",
    );
    await assert.rejects(
      createLocation(kv, { ...atlanta, id: undefined, slug: "mars", timeZone: "Mars/Olympus" }),
      (e) => e instanceof ValidationError && /Mars\/Olympus/.test(e.message),
    );
  });
});

Deno.test("[store] courses: unique code, known prerequisites, batched reads", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    assert.deepEqual(await getCourse(kv, cat.safety.id), cat.safety);
    assert.deepEqual(await getCourseByCode(kv, "SAF-201"), cat.safety2);
    await assert.rejects(
      createCourse(kv, { ...cat.sales, id: undefined }),
      (e) => e instanceof ConflictError && e.code === "code_taken",
    );
    const ghost = newId();
    await assert.rejects(
      createCourse(kv, { ...cat.sales, id: undefined, code: "SAL-301", prerequisiteCourseIds: [ghost] }),
      (e) =>
        e instanceof ValidationError && e.issues[0].path === "prerequisiteCourseIds" &&
        e.issues[0].message.includes(ghost),
    );
    assert.deepEqual((await listCourses(kv, { topic: "safety" })).map((c) => c.code), ["SAF-101", "SAF-201"]);
    const many = await getCoursesByIds(kv, [cat.sales.id, ghost, cat.safety.id]);
    assert.deepEqual([...many.keys()].sort(), [cat.sales.id, cat.safety.id].sort());
  });
});

Deno.test("[store] dealers: create, list, unique slug", async () => {
  await withKv(async (kv) => {
    await createDealer(kv, { name: "Peach State Motors", slug: "peach-state" });
    await createDealer(kv, { name: "Alamo Trucks", slug: "alamo" });
    assert.deepEqual((await listDealers(kv)).map((d) => d.slug), ["alamo", "peach-state"]);
    await assert.rejects(
      createDealer(kv, { name: "Other", slug: "alamo" }),
      (e) => e instanceof ConflictError && e.code === "slug_taken",
    );
  });
});

Deno.test("[store] catalog cache reloads after catalog writes only", async () => {
  await withKv(async (kv) => {
    const cat = await seedTinyCatalog(kv);
    const first = await loadCatalog(kv);
    assert.equal(first.courses.size, 3);
    assert.equal(await loadCatalog(kv), first, "unchanged catalog is served from cache");
    await createCourse(kv, { ...cat.sales, id: undefined, code: "SAL-102" });
    const second = await loadCatalog(kv);
    assert.notEqual(second, first);
    assert.equal(second.courses.size, 4);
    invalidateCatalogCache(kv);
    assert.notEqual(await loadCatalog(kv), second);
  });
});
