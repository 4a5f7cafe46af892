/**
 * Email templates as files a non-developer can edit (templates/email/, described in its README):
 * `<name>.txt` (first line `Subject: …`) and `<name>.html`, wrapped by `_layout.txt` and
 * `_layout.html`. Placeholders: `{{x}}` (escaped in HTML), `{{{x}}}` (as is), `{{#x}}…{{/x}}` (shown
 * when x has a value), `{{^x}}…{{/x}}` (when it has none). A placeholder the message does not
 * provide is an error, never an empty gap.
 */

/** Values of one message's placeholders (null or "": no value, for sections). */
export type TemplateVars = Record<string, string | null>;

/** A rendered message. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** A template that cannot be rendered (missing file or placeholder). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

const DEFAULT_DIR = new URL("../../templates/email/", import.meta.url);

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Fills one template text. Pure. */
export function fill(template: string, vars: TemplateVars, html: boolean, name = "template"): string {
  const value = (key: string): string | null => {
    if (!(key in vars)) throw new TemplateError(`${name}: no value for {{${key}}}`);
    return vars[key];
  };
  const sections = template.replace(
    /\{\{([#^])(\w+)\}\}([\s\S]*?)\{\{\/\2\}\}/g,
    (_m, kind: string, key: string, inner: string) => {
      const v = value(key);
      const present = v !== null && v !== "";
      return (kind === "#") === present ? inner : "";
    },
  );
  return sections.replace(/\{\{(\{?)\s*(\w+)\s*\}?\}\}/g, (_m, raw: string, key: string) => {
    const v = value(key) ?? "";
    return raw || !html ? v : escapeHtml(v);
  });
}

/** Reads and renders templates from a folder (default templates/email/), caching the files. */
export class TemplateSet {
  readonly #dir: URL;
  readonly #files = new Map<string, string>();

  constructor(dir: URL = DEFAULT_DIR) {
    this.#dir = dir;
  }

  async #read(file: string): Promise<string> {
    const cached = this.#files.get(file);
    if (cached !== undefined) return cached;
    let text: string;
    try {
      text = await Deno.readTextFile(new URL(file, this.#dir));
    } catch {
      throw new TemplateError(`the template file ${file} is missing`);
    }
    this.#files.set(file, text);
    return text;
  }

  /** Renders template `name` (plain text + HTML, each in its layout) with `vars`. */
  async render(name: string, vars: TemplateVars): Promise<RenderedMail> {
    const [txt, html, txtLayout, htmlLayout] = await Promise.all([
      this.#read(`${name}.txt`),
      this.#read(`${name}.html`),
      this.#read("_layout.txt"),
      this.#read("_layout.html"),
    ]);
    const match = txt.match(/^Subject:[ \t]*(.*)\r?\n/);
    if (!match) throw new TemplateError(`${name}.txt must start with a "Subject: …" line`);
    const subject = fill(match[1], vars, false, `${name}.txt`).replace(/\s+/g, " ").trim();
    const textBody = fill(txt.slice(match[0].length), vars, false, `${name}.txt`).trim();
    const htmlBody = fill(html, vars, true, `${name}.html`);
    return {
      subject,
      text: fill(txtLayout, { ...vars, body: textBody }, false, "_layout.txt").trim() + "\n",
      html: fill(htmlLayout, { ...vars, subject, body: htmlBody }, true, "_layout.html"),
    };
  }
}
