import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import {
  buttonClass,
  describedBy,
  Field,
  inputClass,
  linkClass,
  Notice,
  secondaryClass,
} from "../../../components/admin/AdminUi.tsx";
import { searchPeople } from "../../../lib/admin/people.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import { type Dealer, ROLES, type User } from "../../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { listDealers } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

interface Data {
  q: string;
  role: string;
  dealer: string;
  dealers: Dealer[];
  people: User[];
  truncated: boolean;
  searched: boolean;
  notice: string | null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const { kv } = services();
    const p = ctx.url.searchParams;
    const q = (p.get("q") ?? "").trim().slice(0, 100);
    const role = (ROLES as readonly string[]).includes(p.get("role") ?? "") ? p.get("role")! : "";
    const dealers = await listDealers(kv);
    const dealer = dealers.some((d) => d.id === p.get("dealer")) ? p.get("dealer")! : "";
    const searched = !!(q || role || dealer);
    const found = searched
      ? await searchPeople(kv, {
        q,
        role: (role || undefined) as User["roles"][number] | undefined,
        dealerId: dealer || undefined,
        includeInactive: true,
      })
      : { people: [], truncated: false };
    const notice = p.get("done") === "deactivated" ? "Deactivated: their sign-ins ended and tokens stopped." : null;
    return ctx.render({ q, role, dealer, dealers, ...found, searched, notice });
  },
};

/** Find people by name or email, role and dealer. */
export default function People({ data }: PageProps<Data, PageState>) {
  const none = {};
  return (
    <>
      <Head>
        <title>People · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">People</h1>
      <div class="space-y-6">
        <Notice notice={data.notice} />
        <form method="get" action="/admin/people" class="grid gap-3 rounded-xl bg-gray-50 p-4" aria-label="Search">
          <Field name="q" label="Name or email">
            <input id="q" name="q" type="search" value={data.q} class={inputClass} {...describedBy("q", none)} />
          </Field>
          <Field name="role" label="Role">
            <select id="role" name="role" class={inputClass}>
              <option value="">Any role</option>
              {ROLES.map((r) => <option key={r} value={r} selected={data.role === r}>{r.replace("_", " ")}</option>)}
            </select>
          </Field>
          <Field name="dealer" label="Dealer">
            <select id="dealer" name="dealer" class={inputClass}>
              <option value="">Any dealer</option>
              {data.dealers.map((d) => <option key={d.id} value={d.id} selected={data.dealer === d.id}>{d.name}
              </option>)}
            </select>
          </Field>
          <div class="flex gap-3">
            <button type="submit" class={`flex-1 ${buttonClass}`}>Search</button>
            <a href="/admin/people" class={secondaryClass}>Clear</a>
          </div>
        </form>
        {data.searched && (
          <section aria-labelledby="found" class="space-y-3">
            <h2 id="found" class="text-xl font-bold">{data.people.length} found</h2>
            {data.truncated && <p class="text-base">Only the first ones are shown: narrow the search.</p>}
            <ul class="space-y-2" data-testid="people">
              {data.people.map((u) => (
                <li key={u.id} class="text-base">
                  <a href={`/admin/people/${u.id}`} class={linkClass}>{u.name}</a>{" "}
                  <span class="break-all">{u.email}</span> · {u.roles.join(", ")}
                  {u.active === false ? " · deactivated" : ""}
                </li>
              ))}
            </ul>
          </section>
        )}
      </div>
    </>
  );
}
