import {
  type Course,
  CourseSchema,
  findPrerequisiteCycle,
  type NewCourse,
  type ProgramType,
  type Topic,
} from "../domain/course.ts";
import { newId } from "../domain/ids.ts";
import { parseOrThrow, ValidationError } from "../domain/validation.ts";
import { ConflictError, NotFoundError } from "./errors.ts";
import { keys } from "./keys.ts";
import { getValueById, getValuesById, listValues } from "./batch.ts";
import { backoff, MAX_WRITE_ATTEMPTS } from "./retry.ts";

/**
 * Creates a course. Validates with `CourseSchema` (throws `ValidationError`,
 * also when a prerequisite does not exist); the code must be unused
 * (`ConflictError` "code_taken"). Because prerequisites must already exist,
 * the prerequisite graph stays acyclic.
 */
export async function createCourse(
  kv: Deno.Kv,
  input: NewCourse,
): Promise<Course> {
  const course = parseOrThrow(
    CourseSchema,
    { ...input, id: input.id ?? newId() },
    "course",
  );
  const prereqs = await getValuesById<Course>(
    kv,
    course.prerequisiteCourseIds,
    keys.course,
  );
  const missing = course.prerequisiteCourseIds.filter((id) => !prereqs.has(id));
  if (missing.length) {
    throw new ValidationError(
      [{
        path: "prerequisiteCourseIds",
        message: `unknown course${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
      }],
      "course",
    );
  }
  const res = await kv.atomic()
    .check({ key: keys.course(course.id), versionstamp: null })
    .check({ key: keys.courseByCode(course.code), versionstamp: null })
    .set(keys.course(course.id), course)
    .set(keys.courseByCode(course.code), course.id)
    .set(keys.catalogVersion(), newId())
    .commit();
  if (!res.ok) {
    const code = await kv.get(keys.courseByCode(course.code));
    if (code.value !== null) {
      throw new ConflictError(
        "code_taken",
        `course code "${course.code}" is already used`,
      );
    }
    throw new ConflictError("exists", `course ${course.id} already exists`);
  }
  return course;
}

/** Returns the course with `id`, or null. */
export async function getCourse(
  kv: Deno.Kv,
  id: string,
): Promise<Course | null> {
  return await getValueById<Course>(kv, id, keys.course);
}

/** Returns the course with `code` (e.g. "SAF-101"), or null. */
export async function getCourseByCode(
  kv: Deno.Kv,
  code: string,
): Promise<Course | null> {
  const id = (await kv.get<string>(keys.courseByCode(code))).value;
  return id ? await getCourse(kv, id) : null;
}

/** Options for {@link listCourses}. */
export interface ListCoursesOptions {
  includeInactive?: boolean;
  topic?: Topic;
  programType?: ProgramType;
}

/** Lists courses sorted by code. */
export async function listCourses(
  kv: Deno.Kv,
  options: ListCoursesOptions = {},
): Promise<Course[]> {
  const all = await listValues<Course>(kv, { prefix: keys.coursesPrefix() });
  return all
    .filter((c) =>
      (options.includeInactive || c.active) &&
      (!options.topic || c.topic === options.topic) &&
      (!options.programType || c.programType === options.programType)
    )
    .sort((a, b) => a.code.localeCompare(b.code));
}

/**
 * Reads many courses at once (batched `getMany`, 10 keys per call).
 * @returns a Map keyed by course id; unknown ids are absent.
 */
export function getCoursesByIds(
  kv: Deno.Kv,
  ids: ReadonlyArray<string>,
): Promise<Map<string, Course>> {
  return getValuesById<Course>(kv, ids, keys.course);
}

/**
 * Changes a course: `change` gets the stored course (it may throw to refuse, e.g. a stale edit) and
 * returns its new fields. Prerequisites must exist and the prerequisite graph must stay acyclic
 * (ValidationError on `prerequisiteCourseIds` naming the cycle by course codes). One atomic op
 * guarded by the course's versionstamp AND the catalog version, which every course change moves:
 * two edits that would close a cycle only together cannot both commit. A new code must be unused
 * (ConflictError "code_taken"). NotFoundError when there is no such course.
 */
export async function updateCourse(
  kv: Deno.Kv,
  id: string,
  change: (current: Course) => Omit<NewCourse, "id">,
): Promise<Course> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    await backoff(attempt);
    const [entry, catalog] = await kv.getMany<[Course, string]>([keys.course(id), keys.catalogVersion()]);
    if (!entry.value) throw new NotFoundError("course", id);
    const before = entry.value;
    const after = parseOrThrow(CourseSchema, { ...change(before), id }, "course");
    const all = await listValues<Course>(kv, { prefix: keys.coursesPrefix() });
    const byId = new Map(all.map((c) => [c.id, c]));
    const missing = after.prerequisiteCourseIds.filter((p) => !byId.has(p));
    if (missing.length) {
      throw new ValidationError(
        [{ path: "prerequisiteCourseIds", message: `unknown course: ${missing.join(", ")}` }],
        "course",
      );
    }
    byId.set(id, after);
    const cycle = findPrerequisiteCycle([...byId.values()]);
    if (cycle.length) {
      const codes = cycle.map((c) => byId.get(c)?.code ?? c);
      throw new ValidationError([{
        path: "prerequisiteCourseIds",
        message: `would make a prerequisite cycle: ${[...codes, codes[0]].join(" → ")}`,
      }], "course");
    }
    if (JSON.stringify(after) === JSON.stringify(before)) return before;
    const op = kv.atomic().check(entry).check(catalog);
    if (after.code !== before.code) {
      op.check({ key: keys.courseByCode(after.code), versionstamp: null });
      op.delete(keys.courseByCode(before.code));
      op.set(keys.courseByCode(after.code), id);
    }
    op.set(keys.course(id), after).set(keys.catalogVersion(), newId());
    if ((await op.commit()).ok) return after;
    if (after.code !== before.code) {
      const taken = await kv.get<string>(keys.courseByCode(after.code));
      if (taken.value !== null && taken.value !== id) {
        throw new ConflictError("code_taken", `course code "${after.code}" is already used`);
      }
    }
  }
  throw new ConflictError("concurrent_update", `course ${id} kept changing; try again`);
}
