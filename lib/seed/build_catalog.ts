import type { Course } from "../domain/course.ts";
import type { Dealer } from "../domain/dealer.ts";
import type { Location } from "../domain/location.ts";
import { newId } from "../domain/ids.ts";
import { CENTERS } from "./data/locations.ts";
import { COURSES } from "./data/courses.ts";
import { DEALERS } from "./data/dealers.ts";

/** Training centers, courses (prerequisites first) and dealers, with fresh ids. */
export interface DemoCatalog {
  locations: Location[];
  courses: Course[];
  dealers: Dealer[];
  /** Home training center of each dealer, by dealer id. */
  dealerCenter: Map<string, Location>;
}

/** Builds the fixed part of the demo catalog. */
export function buildCatalog(): DemoCatalog {
  const locations: Location[] = CENTERS.map((c) => ({
    ...c,
    id: newId(),
    address: { ...c.address },
    active: true,
  }));
  const byCode = new Map<string, Course>();
  const courses = COURSES.map((spec): Course => {
    const prerequisiteCourseIds = (spec.prerequisites ?? []).map((code) => {
      const pre = byCode.get(code);
      if (!pre) throw new Error(`${spec.code}: prerequisite ${code} must be listed before it`);
      return pre.id;
    });
    const course: Course = {
      id: newId(),
      code: spec.code,
      title: spec.title,
      summary: spec.summary,
      topic: spec.topic,
      certificationTrack: spec.certificationTrack ?? null,
      programType: spec.programType,
      prerequisiteCourseIds,
      durationMinutes: spec.durationMinutes,
      lateCancelCutoffHours: spec.lateCancelCutoffHours ?? 24,
      required: spec.required ?? false,
      active: true,
    };
    byCode.set(spec.code, course);
    return course;
  });
  const centerBySlug = new Map(locations.map((l) => [l.slug, l]));
  const dealerCenter = new Map<string, Location>();
  const dealers = DEALERS.map((d): Dealer => {
    const dealer = { id: newId(), name: d.name, slug: d.slug };
    const center = centerBySlug.get(d.center);
    if (!center) throw new Error(`dealer ${d.slug}: unknown center ${d.center}`);
    dealerCenter.set(dealer.id, center);
    return dealer;
  });
  return { locations, courses, dealers, dealerCenter };
}
