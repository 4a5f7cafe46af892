import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { Section } from "../../../components/admin/CalcomOps.tsx";
import { CourseForm } from "../../../components/admin/CourseForm.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  type CourseFormErrors,
  type CourseFormValues,
  courseFormValues,
  saveCourseFromForm,
} from "../../../lib/admin/courses.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { type Course, PROGRAM_TYPE_LABELS } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
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

interface Data {
  courses: Course[];
  values: CourseFormValues;
  errors: CourseFormErrors;
  notice: string | null;
  problem: string | null;
}

async function render(ctx: FreshContext<PageState, Data>, over: Partial<Data>, status = 200) {
  const courses = await listCourses(services().kv, { includeInactive: true });
  const done = ctx.url.searchParams.get("done");
  return ctx.render({
    courses,
    values: BLANK,
    errors: {},
    notice: done === "added" ? "Course added." : done === "saved" ? "Changes saved." : null,
    problem: null,
    ...over,
  }, { status });
}

export const handler: Handlers<Data, PageState> = {
  GET(_req, ctx) {
    return render(ctx, {});
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const values = courseFormValues(await req.formData().catch(() => new FormData()));
    const out = await saveCourseFromForm(services().kv, values);
    if (out.ok) return new Response(null, { status: 303, headers: { location: "/admin/courses?done=added" } });
    return render(ctx, { values, errors: out.errors, notice: null, problem: "Nothing was saved." }, 400);
  },
};

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
