import { type AccessRule, ADMIN_ONLY } from "../../../lib/access/matrix.ts";
import { linkClass, Notice } from "../../../components/admin/AdminUi.tsx";
import { Section } from "../../../components/admin/CalcomOps.tsx";
import { LocationForm } from "../../../components/admin/LocationForm.tsx";
import { type FormPageData, listAndAddHandler } from "../../../components/admin/form_page.ts";
import {
  type LocationFormErrors,
  type LocationFormValues,
  locationFormValues,
  saveLocationFromForm,
} from "../../../lib/admin/locations.ts";
import type { PageState } from "../../../lib/auth/page_user.ts";
import type { Location } from "../../../lib/domain/mod.ts";
import { type Handlers, Head, type PageProps } from "../../../lib/fresh/mod.ts";
import { services } from "../../../lib/services.ts";
import { listLocations } from "../../../lib/store/mod.ts";

/** Who may open this page (the access matrix, lib/access/matrix.ts). */
export const access: AccessRule = ADMIN_ONLY;

const BLANK: LocationFormValues = {
  name: "",
  slug: "",
  line1: "",
  city: "",
  region: "GA",
  postalCode: "",
  timeZone: "America/New_York",
  lat: "",
  lng: "",
  active: "on",
};

interface Data extends FormPageData<LocationFormValues, LocationFormErrors> {
  locations: Location[];
}

export const handler: Handlers<Data, PageState> = listAndAddHandler({
  path: "/admin/locations",
  added: "Training center added.",
  blank: BLANK,
  load: async () => ({ locations: await listLocations(services().kv, { includeInactive: true }) }),
  valuesOf: locationFormValues,
  save: (values) => saveLocationFromForm(services().kv, values),
});

/** Training centers: every one (closed ones too) and a form to add one. */
export default function Locations({ data }: PageProps<Data, PageState>) {
  return (
    <>
      <Head>
        <title>Training centers · Staff</title>
      </Head>
      <p class="text-sm">
        <a href="/admin" class={linkClass}>← Staff</a>
      </p>
      <h1 class="mb-3 text-2xl font-bold leading-tight">Training centers</h1>
      <div class="space-y-8">
        <Notice notice={data.notice} problem={data.problem} />
        <Section id="all" title={`All centers (${data.locations.length})`}>
          <ul class="space-y-2" data-testid="locations">
            {data.locations.map((l) => (
              <li key={l.id} class="text-base">
                <a href={`/admin/locations/${l.id}`} class={linkClass}>{l.name}</a> {l.address.city}, {l.address.region}
                {" "}
                · {l.timeZone}
                {l.active ? "" : " · closed"}
              </li>
            ))}
          </ul>
        </Section>
        <Section id="add" title="Add a training center">
          <LocationForm action="/admin/locations" values={data.values} errors={data.errors} submitLabel="Add center" />
        </Section>
      </div>
    </>
  );
}
