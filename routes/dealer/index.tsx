import type { AccessRule } from "../../lib/access/matrix.ts";
import {
  buttonClass,
  describedBy,
  Field,
  inputClass,
  linkClass,
  Notice,
  secondaryClass,
} from "../../components/admin/AdminUi.tsx";
import { Section } from "../../components/admin/CalcomOps.tsx";
import { type FormPageData, renderFormPage } from "../../components/admin/form_page.ts";
import { PersonFields } from "../../components/admin/PersonFields.tsx";
import { sameOrigin } from "../../components/Journey.tsx";
import {
  createDealerLearner,
  deactivatePerson,
  peopleActorOf,
  type PersonFormErrors,
  personFormInput,
  type PersonFormValues,
  personFormValues,
} from "../../lib/admin/people.ts";
import type { PageState } from "../../lib/auth/page_user.ts";
import { DomainError } from "../../lib/booking/errors.ts";
import type { Dealer, Location, User } from "../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../lib/fresh/mod.ts";
import { services } from "../../lib/services.ts";
import { getDealer, listLocations, listUsersByDealer } from "../../lib/store/mod.ts";

/** Who may open this page: dealer admins, for their own dealer. */
export const access: AccessRule = { dealer_admin: "own_dealer" };

const DONE: Record<string, string> = {
  added: "Learner added.",
  deactivated: "Deactivated: their sign-ins ended and their API tokens stopped working.",
  saved: "Changes saved.",
};

type Values = PersonFormValues & { email: string };
const BLANK: Values = { email: "", name: "", managerId: "", preferredLocationId: "" };

interface Data extends FormPageData<Values, PersonFormErrors> {
  dealer: Dealer | null;
  people: User[];
  locations: Location[];
}

type Ctx = FreshContext<PageState, Data>;

function render(ctx: Ctx, over: Partial<Data>, status = 200) {
  return renderFormPage(ctx, { load: () => loadDealer(ctx), blank: BLANK, notices: DONE }, over, status);
}

/** The dealer admin's dealer, its people and the training centers. */
async function loadDealer(ctx: Ctx) {
  const { kv } = services();
  const dealerId = ctx.state.user!.dealerId;
  const dealer = dealerId ? await getDealer(kv, dealerId) : null;
  const [people, locations] = await Promise.all([
    dealer ? listUsersByDealer(kv, dealer.id) : [],
    listLocations(kv),
  ]);
  return { dealer, people, locations };
}

export const handler: Handlers<Data, PageState> = {
  GET(_req, ctx) {
    return render(ctx, {});
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const form = await req.formData().catch(() => new FormData());
    const field = (k: string) => String(form.get(k) ?? "").trim();
    const actor = peopleActorOf(ctx.state.user!);
    const { kv } = services();
    try {
      if (field("intent") === "deactivate") {
        await deactivatePerson(kv, actor, field("id"));
        return new Response(null, { status: 303, headers: { location: "/dealer?done=deactivated" } });
      }
      const values: Values = { email: field("email").toLowerCase(), ...personFormValues(form) };
      const out = await createDealerLearner(kv, actor, { email: values.email, ...personFormInput(values) });
      if (out.user) return new Response(null, { status: 303, headers: { location: "/dealer?done=added" } });
      return render(ctx, { values, errors: out.errors, notice: null, problem: "Nothing was saved." }, 400);
    } catch (err) {
      if (err instanceof DomainError && err.status < 500) {
        return render(ctx, { notice: null, problem: err.message }, err.status);
      }
      throw err;
    }
  },
};

/** The dealer admin's home: their dealer's people (add, change, deactivate) and reports. */
export default function DealerHome({ data }: PageProps<Data, PageState>) {
  const { dealer, people, values, errors } = data;
  const e = errors as Record<string, string>;
  const managers = people.filter((p) => p.roles.includes("manager"));
  return (
    <>
      <Head>
        <title>{dealer ? dealer.name : "Dealer"} · Training sessions</title>
      </Head>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{dealer ? dealer.name : "No dealer"}</h1>
      {!dealer && <p class="text-base">Your account belongs to no dealer. Ask an administrator to set it.</p>}
      {dealer && (
        <div class="space-y-8">
          <Notice notice={data.notice} problem={data.problem} />
          <p class="text-base">
            <a href="/dealer/reports" class={linkClass} data-testid="link-dealer-reports">Your dealer's reports</a>
          </p>
          <Section id="add" title="Add a learner">
            <form method="post" action="/dealer" class="grid gap-3 rounded-xl bg-gray-50 p-4" novalidate>
              <input type="hidden" name="intent" value="add" />
              <Field name="email" label="Email" error={e.email}>
                <input
                  id="email"
                  name="email"
                  type="email"
                  value={values.email}
                  class={inputClass}
                  {...describedBy("email", e)}
                />
              </Field>
              <PersonFields values={values} errors={e} locations={data.locations} managers={managers} />
              <button type="submit" class={buttonClass}>Add learner</button>
            </form>
          </Section>
          <Section id="people" title={`People (${people.length})`}>
            <ul class="space-y-2" data-testid="dealer-people">
              {people.map((p) => (
                <li key={p.id} class="space-y-2 rounded-xl border border-gray-200 p-3 text-base">
                  <p>
                    <span class="font-semibold">{p.name}</span> <span class="break-all">{p.email}</span>{" "}
                    {p.roles.filter((r) => r !== "learner").join(", ")}
                    {p.active === false && " (deactivated)"}
                  </p>
                  {p.active !== false && p.roles.every((r) => r === "learner") && (
                    <div class="flex flex-wrap gap-3">
                      <a href={`/dealer/people/${p.id}`} class={secondaryClass} aria-label={`Change ${p.name}`}>
                        Change
                      </a>
                      <form method="post" action="/dealer">
                        <input type="hidden" name="intent" value="deactivate" />
                        <input type="hidden" name="id" value={p.id} />
                        <button type="submit" class={secondaryClass} aria-label={`Deactivate ${p.name}`}>
                          Deactivate
                        </button>
                      </form>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          </Section>
        </div>
      )}
    </>
  );
}
