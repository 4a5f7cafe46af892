import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { LocationForm } from "../../../components/admin/LocationForm.tsx";
import { sameOrigin } from "../../../components/Journey.tsx";
import {
  type LocationFormErrors,
  type LocationFormValues,
  locationFormValues,
  locationVersion,
  saveLocationFromForm,
  valuesOfLocation,
} from "../../../lib/admin/locations.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import type { Location } from "../../../lib/domain/mod.ts";
import { type FreshContext, type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { getLocation, isPossibleId } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

interface Data {
  location: Location;
  values: LocationFormValues;
  errors: LocationFormErrors;
  version: string;
  problem: string | null;
}

type Ctx = FreshContext<PageState, Data>;

function render(ctx: Ctx, location: Location, over: Partial<Data>, status = 200) {
  return ctx.render({
    location,
    values: valuesOfLocation(location),
    errors: {},
    version: locationVersion(location),
    problem: null,
    ...over,
  }, { status });
}

async function find(ctx: Ctx): Promise<Location | null> {
  return isPossibleId(ctx.params.id) ? await getLocation(services().kv, ctx.params.id) : null;
}

export const handler: Handlers<Data, PageState> = {
  async GET(_req, ctx) {
    const location = await find(ctx);
    return location ? render(ctx, location, {}) : ctx.renderNotFound();
  },
  async POST(req, ctx) {
    if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
    const location = await find(ctx);
    if (!location) return ctx.renderNotFound();
    const form = await req.formData().catch(() => new FormData());
    const values = locationFormValues(form);
    const out = await saveLocationFromForm(services().kv, values, {
      id: location.id,
      version: String(form.get("version") ?? ""),
    });
    if (out.ok) return new Response(null, { status: 303, headers: { location: "/admin/locations?done=saved" } });
    if (out.current) return render(ctx, out.current, { problem: out.problem }, 409);
    return render(ctx, location, { values, errors: out.errors, problem: "Nothing was saved." }, 400);
  },
};

/** Change one training center. */
export default function LocationPage({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>{data.location.name} · Training centers · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin/locations" class={linkClass}>← Training centers</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">{data.location.name}</h1>
      <div class="space-y-4">
        <Notice problem={data.problem} />
        <LocationForm
          action={`/admin/locations/${data.location.id}`}
          values={data.values}
          errors={data.errors}
          version={data.version}
          submitLabel="Save changes"
        />
      </div>
    </>
  );
}
