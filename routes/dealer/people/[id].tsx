import type { AccessRule } from "../../../lib/access/matrix.ts";
import { buttonClass, linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { PersonFields } from "../../../components/admin/PersonFields.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  assertMayManagePerson,
  peopleActorOf,
  type PersonFormErrors,
  personFormInput,
  type PersonFormValues,
  personFormValues,
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

interface Data {
  person: User;
  version: string;
  values: PersonFormValues;
  errors: PersonFormErrors;
  managers: User[];
  locations: Location[];
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

const valuesOf = (u: User): PersonFormValues => ({
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
    const values = personFormValues(form);
    const version = String(form.get("version") ?? "").trim();
    const actor = peopleActorOf(ctx.state.user!);
    const out = await updateDealerLearner(services().kv, actor, person.id, personFormInput(values), version);
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
          <PersonFields values={values} errors={e} locations={data.locations} managers={data.managers} />
          <button type="submit" class={buttonClass}>Save</button>
        </form>
      </div>
    </>
  );
}
