import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import {
  buttonClass,
  checkClass,
  describedBy,
  Field,
  inputClass,
  linkClass,
  Notice,
  secondaryClass,
} from "../../../components/admin/AdminUi.tsx";
import { Section } from "../../../components/admin/CalcomOps.tsx";
import { PersonFields } from "../../../components/admin/PersonFields.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import { refusalOf } from "../../../lib/admin/form_outcome.ts";
import { changePerson, deactivatePerson, peopleActorOf, personVersion } from "../../../lib/admin/people.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { type Dealer, type Location, type Role, ROLES, type User } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getUser, getUserByEmail, isPossibleId, listDealers, listLocations } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

type FieldName = "name" | "roles" | "dealerId" | "manager" | "preferredLocationId";
type Values = { name: string; roles: string[]; dealerId: string; manager: string; preferredLocationId: string };

interface Data {
  person: User;
  version: string;
  values: Values;
  errors: Partial<Record<FieldName, string>>;
  dealers: Dealer[];
  locations: Location[];
  notice: string | null;
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

async function valuesOf(kv: Deno.Kv, u: User): Promise<Values> {
  const manager = u.managerId ? await getUser(kv, u.managerId) : null;
  return {
    name: u.name,
    roles: [...u.roles],
    dealerId: u.dealerId ?? "",
    manager: manager?.email ?? u.managerId ?? "",
    preferredLocationId: u.preferredLocationId ?? "",
  };
}

async function render(ctx: Ctx, person: User, over: Partial<Data>, status = 200) {
  const { kv } = services();
  const [dealers, locations] = await Promise.all([listDealers(kv), listLocations(kv, { includeInactive: true })]);
  return ctx.render({
    person,
    version: personVersion(person),
    values: await valuesOf(kv, person),
    errors: {},
    dealers,
    locations,
    notice: ctx.url.searchParams.get("done") === "saved" ? "Changes saved." : null,
    problem: null,
    ...over,
  }, { status });
}

async function find(ctx: Ctx): Promise<User | null> {
  const u = isPossibleId(ctx.params.id) ? await getUser(services().kv, ctx.params.id) : null;
  return u && !u.erasedAt ? u : null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const person = await find(ctx);
    return person ? render(ctx, person, {}) : ctx.renderNotFound();
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const person = await find(ctx);
    if (!person) return ctx.renderNotFound();
    const { kv } = services();
    const actor = peopleActorOf(ctx.state.user!);
    const form = await req.formData().catch(() => new FormData());
    const field = (k: string) => String(form.get(k) ?? "").trim();
    if (field("intent") === "deactivate") {
      await deactivatePerson(kv, actor, person.id);
      return new Response(null, { status: 303, headers: { location: "/admin/people?done=deactivated" } });
    }
    const values: Values = {
      name: field("name"),
      roles: form.getAll("roles").map(String),
      dealerId: field("dealerId"),
      manager: field("manager"),
      preferredLocationId: field("preferredLocationId"),
    };
    const errors: Data["errors"] = {};
    const roles = values.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
    if (!roles.length) errors.roles = "Give the person at least one role.";
    if (!values.name || values.name.length > 160) errors.name = "Give the person's name (at most 160 characters).";
    let managerId: string | null = null;
    if (values.manager) {
      const m = values.manager.includes("@")
        ? await getUserByEmail(kv, values.manager)
        : await getUser(kv, values.manager);
      if (!m) errors.manager = "Nobody has this email or id.";
      else managerId = m.id;
    }
    if (Object.keys(errors).length) return render(ctx, person, { values, errors, problem: "Nothing was saved." }, 400);
    try {
      await changePerson(kv, actor, person.id, {
        name: values.name,
        roles,
        dealerId: values.dealerId || null,
        managerId,
        preferredLocationId: values.preferredLocationId || null,
      }, field("version"));
      return new Response(null, { status: 303, headers: { location: `/admin/people/${person.id}?done=saved` } });
    } catch (err) {
      const out = refusalOf<User, FieldName>(err, (p) => (p === "managerId" ? "manager" : p) as FieldName, {});
      if (out.ok) throw err;
      if (out.current) return render(ctx, out.current, { problem: out.problem }, 409);
      return render(ctx, person, { values, errors: out.errors, problem: "Nothing was saved." }, 400);
    }
  },
};

/** One person: roles, dealer, manager, preferred location; deactivate. */
export default function Person({ data }: PageProps<Data, PageState>) {
  const { person, values } = data;
  const e = data.errors as Record<string, string>;
  const here = `/admin/people/${person.id}`;
  return (
    <>
      <Head>
        <title>{person.name} · People · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/people" class={linkClass}>← People</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{person.name}</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <p class="text-base">
          <span class="break-all">{person.email}</span>
          {person.active === false ? " · deactivated" : ""} ·{" "}
          <a href={`/admin/audit?learner=${person.id}`} class={linkClass}>Everything that happened to them</a>
        </p>
        <form method="post" action={here} class="grid gap-4 rounded-xl bg-gray-50 p-4" novalidate>
          <input type="hidden" name="version" value={data.version} />
          <PersonFields values={values} errors={e} locations={data.locations}>
            <fieldset aria-describedby={e.roles ? "roles-error" : undefined}>
              <legend class="text-sm font-medium text-gray-800">Roles</legend>
              {ROLES.map((r) => (
                <div key={r} class="flex items-center gap-2">
                  <input
                    id={`role-${r}`}
                    name="roles"
                    type="checkbox"
                    value={r}
                    checked={values.roles.includes(r)}
                    class={checkClass}
                  />
                  <label for={`role-${r}`} class="text-base">{r.replace("_", " ")}</label>
                </div>
              ))}
              {e.roles && (
                <p id="roles-error" class="mt-1 text-sm font-semibold text-red-800" data-testid="error-roles">
                  {e.roles}
                </p>
              )}
            </fieldset>
            <Field name="dealerId" label="Dealer" error={e.dealerId}>
              <select id="dealerId" name="dealerId" class={inputClass} {...describedBy("dealerId", e)}>
                <option value="">None</option>
                {data.dealers.map((d) => (
                  <option key={d.id} value={d.id} selected={values.dealerId === d.id}>{d.name}</option>
                ))}
              </select>
            </Field>
            <Field name="manager" label="Manager (email or id)" error={e.manager}>
              <input
                id="manager"
                name="manager"
                value={values.manager}
                class={inputClass}
                {...describedBy("manager", e)}
              />
            </Field>
          </PersonFields>
          <button type="submit" class={buttonClass}>Save changes</button>
        </form>
        {person.active !== false && (
          <Section id="deactivate" title="Deactivate">
            <form method="post" action={here} class="space-y-3">
              <input type="hidden" name="intent" value="deactivate" />
              <p class="text-base">Their sign-ins end at once on every instance and their API tokens stop working.</p>
              <button type="submit" class={secondaryClass}>Deactivate {person.name}</button>
            </form>
          </Section>
        )}
      </div>
    </>
  );
}
