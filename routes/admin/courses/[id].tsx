import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { CourseForm } from "../../../components/admin/CourseForm.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  type CourseFormErrors,
  type CourseFormValues,
  courseFormValues,
  courseVersion,
  saveCourseFromForm,
  valuesOfCourse,
} from "../../../lib/admin/courses.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import type { Course } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getCourse, isPossibleId, listCourses } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

interface Data {
  course: Course;
  courses: Course[];
  values: CourseFormValues;
  errors: CourseFormErrors;
  version: string;
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

async function render(ctx: Ctx, course: Course, over: Partial<Data>, status = 200) {
  const courses = await listCourses(services().kv, { includeInactive: true });
  return ctx.render({
    course,
    courses,
    values: valuesOfCourse(course),
    errors: {},
    version: courseVersion(course),
    problem: null,
    ...over,
  }, { status });
}

async function find(ctx: Ctx): Promise<Course | null> {
  return isPossibleId(ctx.params.id) ? await getCourse(services().kv, ctx.params.id) : null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const course = await find(ctx);
    return course ? render(ctx, course, {}) : ctx.renderNotFound();
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const course = await find(ctx);
    if (!course) return ctx.renderNotFound();
    const form = await req.formData().catch(() => new FormData());
    const values = courseFormValues(form);
    const out = await saveCourseFromForm(services().kv, values, {
      id: course.id,
      version: String(form.get("version") ?? ""),
    });
    if (out.ok) return new Response(null, { status: 303, headers: { location: "/admin/courses?done=saved" } });
    if (out.current) return render(ctx, out.current, { problem: out.problem }, 409);
    return render(ctx, course, { values, errors: out.errors, problem: "Nothing was saved." }, 400);
  },
};

/** Change one course. */
export default function CoursePage({ data }: PageProps<Data, PageState>) {
  const { course } = data;
  return (
    <>
      <Head>
        <title>{course.code} · Courses · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/courses" class={linkClass}>← Courses</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{course.code} {course.title}</h1>
      <div class="space-y-4">
        <Notice problem={data.problem} />
        <CourseForm
          action={`/admin/courses/${course.id}`}
          values={data.values}
          errors={data.errors}
          courses={data.courses}
          selfId={course.id}
          version={data.version}
          submitLabel="Save changes"
        />
      </div>
    </>
  );
}
