/**
 * Handler side of the staff form pages: the data every one renders around its form (what was typed, the
 * error sentences, the notice `?done=` names, the problem sentence), and the whole handler of a list-and-add
 * page (courses, training centers).
 */
import type { PageState } from "../../lib/auth/page_user.ts";
import type { FreshContext, Handlers } from "../../lib/fresh/mod.ts";
import { sameOrigin } from "../Journey.tsx";

/** What a form page renders besides what it loads. */
export interface FormPageData<V, E> {
  values: V;
  errors: E;
  notice: string | null;
  problem: string | null;
}

/**
 * Renders a form page: what `load` returns, a blank form, the notice `notices` gives for `?done=`, no problem;
 * `over` replaces any of them (the typed values and errors of a refused save).
 */
export async function renderFormPage<L, V, E>(
  ctx: FreshContext<PageState, L & FormPageData<V, E>>,
  page: { load: () => Promise<L>; blank: V; notices: Record<string, string> },
  over: Partial<L & FormPageData<V, E>>,
  status = 200,
): Promise<Response> {
  const loaded = await page.load();
  return ctx.render(
    {
      ...loaded,
      values: page.blank,
      errors: {} as E,
      notice: page.notices[ctx.url.searchParams.get("done") ?? ""] ?? null,
      problem: null,
      ...over,
    } as L & FormPageData<V, E>,
    { status },
  );
}

/**
 * The handler of a list-and-add page at `path`: GET shows the list and a blank form; POST (same origin only)
 * saves the form and answers 303 to `path?done=added`, or 400 with the form as typed and its error sentences.
 */
export function listAndAddHandler<L, V, E>(page: {
  path: string;
  /** The notice after an add (`?done=added`); `?done=saved` says "Changes saved.". */
  added: string;
  blank: V;
  load: () => Promise<L>;
  valuesOf: (form: FormData) => V;
  save: (values: V) => Promise<{ ok: true } | { ok: false; errors: E }>;
}): Handlers<L & FormPageData<V, E>, PageState> {
  const shown = { load: page.load, blank: page.blank, notices: { added: page.added, saved: "Changes saved." } };
  return {
    GET(_req, ctx) {
      return renderFormPage(ctx, shown, {});
    },
    async POST(req, ctx) {
      if (!sameOrigin(req, ctx.url)) return new Response("Cross-site form refused.", { status: 403 });
      const values = page.valuesOf(await req.formData().catch(() => new FormData()));
      const out = await page.save(values);
      if (out.ok) return new Response(null, { status: 303, headers: { location: `${page.path}?done=added` } });
      const refused: Partial<FormPageData<V, E>> = {
        values,
        errors: out.errors,
        notice: null,
        problem: "Nothing was saved.",
      };
      return renderFormPage(ctx, shown, refused as Partial<L & FormPageData<V, E>>, 400);
    },
  };
}
