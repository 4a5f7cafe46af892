import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { Section } from "../../../components/admin/CalcomOps.tsx";
import { CourseForm } from "../../../components/admin/CourseForm.tsx";
import { type FormPageData, listAndAddHandler } from "../../../components/admin/form_page.ts";
import {
  type CourseFormErrors,
  type CourseFormValues,
  courseFormValues,
  saveCourseFromForm,
} from "../../../lib/admin/courses.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { type Course, PROGRAM_TYPE_LABELS } from "../../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { listCourses } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const BLANK: CourseFormValues = {
  code: "",
  title: "",
  summary: "",
  topic: "safety",
  programType: "development",
  durationMinutes: "120",
  lateCancelCutoffHours: "24",
  certificationTrack: "",
  certificationValidMonths: "",
  completionMinutes: "",
  completionPercent: "",
  required: "",
  active: "on",
  prerequisites: [],
};

interface Data extends FormPageData<CourseFormValues, CourseFormErrors> {
  courses: Course[];
}

export const handler: Handlers<Data, PageState> = listAndAddHandler({
  path: "/admin/courses",
  added: "Course added.",
  blank: BLANK,
  load: async () => ({ courses: await listCourses(services().kv, { includeInactive: true }) }),
  valuesOf: courseFormValues,
  save: (values) => saveCourseFromForm(services().kv, values),
});

/** The course catalog: every course (retired ones too) and a form to add one. */
export default function Courses({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Courses · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Courses</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <Section id="add" title="Add a course">
          <CourseForm
            action="/admin/courses"
            values={data.values}
            errors={data.errors}
            courses={data.courses}
            submitLabel="Add course"
          />
        </Section>
        <Section id="all" title={`All courses (${data.courses.length})`}>
          <ul class="space-y-2" data-testid="courses">
            {data.courses.map((c) => (
              <li key={c.id} class="text-base">
                <a href={`/admin/courses/${c.id}`} class={linkClass}>{c.code} {c.title}</a>{" "}
                {PROGRAM_TYPE_LABELS[c.programType]}
                {c.prerequisiteCourseIds.length ? ` · ${c.prerequisiteCourseIds.length} prerequisite(s)` : ""}
                {c.active ? "" : " · retired"}
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </>
  );
}
