import type { AccessRule } from "../../../lib/access/matrix.ts";
import { buttonClass, describedBy, Field, inputClass, linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  assertMayManagePerson,
  peopleActorOf,
  type PersonFormErrors,
  personVersion,
  updateDealerLearner,
} from "../../../lib/admin/people.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { DomainError } from "../../../lib/booking/errors.ts";
import type { Location, User } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getUser, listLocations, listUsersByDealer } from "../../../lib/store/mod.ts";

/** Who may open this page: dealer admins, for the learners of their own dealer. */
export const access: AccessRule = { dealer_admin: "own_dealer" };

type Values = { name: string; managerId: string; preferredLocationId: string };

interface Data {
  person: User;
  version: string;
  values: Values;
  errors: PersonFormErrors;
  managers: User[];
  locations: Location[];
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

const valuesOf = (u: User): Values => ({
  name: u.name,
  managerId: u.managerId ?? "",
  preferredLocationId: u.preferredLocationId ?? "",
});

/** The person if the dealer admin may manage them; otherwise the 404 or 403 answer. */
async function reachable(ctx: Ctx): Promise<User | Response> {
  const person = /^[0-9A-HJKMNP-TV-Z]{26}$/.test(ctx.params.id) ? await getUser(services().kv, ctx.params.id) : null;
  if (!person) return ctx.renderNotFound();
  try {
    assertMayManagePerson(peopleActorOf(ctx.state.user!), person);
  } catch (err) {
    if (err instanceof DomainError) return new Response(err.message, { status: 403 });
    throw err;
  }
  return person;
}

async function render(ctx: Ctx, person: User, over: Partial<Data>, status = 200) {
  const { kv } = services();
  const [people, locations] = await Promise.all([listUsersByDealer(kv, person.dealerId!), listLocations(kv)]);
  return ctx.render({
    person,
    version: personVersion(person),
    values: valuesOf(person),
    errors: {},
    managers: people.filter((p) => p.roles.includes("manager")),
    locations,
    problem: null,
    ...over,
  }, { status });
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const person = await reachable(ctx);
    return person instanceof Response ? person : render(ctx, person, {});
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const person = await reachable(ctx);
    if (person instanceof Response) return person;
    const form = await req.formData().catch(() => new FormData());
    const field = (k: string) => String(form.get(k) ?? "").trim();
    const values: Values = {
      name: field("name"),
      managerId: field("managerId"),
      preferredLocationId: field("preferredLocationId"),
    };
    const out = await updateDealerLearner(services().kv, peopleActorOf(ctx.state.user!), person.id, {
      name: values.name,
      managerId: values.managerId || null,
      preferredLocationId: values.preferredLocationId || null,
    }, field("version"));
    if (out.user) return new Response(null, { status: 303, headers: { location: "/dealer?done=saved" } });
    if (out.stale) {
      return render(ctx, out.stale, {
        problem:
          "Someone changed this person after you opened the page, so nothing was saved. The current values are shown.",
      }, 409);
    }
    return render(ctx, person, { values, errors: out.errors, problem: "Nothing was saved." }, 400);
  },
};

/** Change a learner of the dealer admin's dealer. */
export default function DealerPerson({ data }: PageProps<Data, PageState>) {
  const { person, values } = data;
  const e = data.errors as Record<string, string>;
  return (
    <>
      <Head>
        <title>{person.name} · Dealer</title>
      </Head>
      <p class="text-sm">
        <a href="/dealer" class={linkClass}>← People</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{person.name}</h1>
      <div class="space-y-4">
        <Notice problem={data.problem} />
        <p class="break-all text-base">{person.email}</p>
        <form
          method="post"
          action={`/dealer/people/${person.id}`}
          class="grid gap-3 rounded-xl bg-gray-50 p-4"
          novalidate
        >
          <input type="hidden" name="version" value={data.version} />
          <Field name="name" label="Name" error={e.name}>
            <input id="name" name="name" value={values.name} class={inputClass} {...describedBy("name", e)} />
          </Field>
          <Field name="managerId" label="Manager" error={e.managerId}>
            <select id="managerId" name="managerId" class={inputClass} {...describedBy("managerId", e)}>
              <option value="">None</option>
              {data.managers.map((m) => (
                <option key={m.id} value={m.id} selected={values.managerId === m.id}>{m.name}</option>
              ))}
            </select>
          </Field>
          <Field name="preferredLocationId" label="Preferred training center" error={e.preferredLocationId}>
            <select
              id="preferredLocationId"
              name="preferredLocationId"
              class={inputClass}
              {...describedBy("preferredLocationId", e)}
            >
              <option value="">None</option>
              {data.locations.map((l) => (
                <option key={l.id} value={l.id} selected={values.preferredLocationId === l.id}>{l.name}</option>
              ))}
            </select>
          </Field>
          <button type="submit" class={buttonClass}>Save</button>
        </form>
      </div>
    </>
  );
}
