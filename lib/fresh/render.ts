/**
 * Turns a page's vnode tree into a complete HTML document: islands marked
 * and their props serialised, `<Head>` contents merged, twind CSS inlined,
 * and (only when islands are present) the preload links and module script.
 * @module
 */
import { type ComponentChildren, Fragment, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import { collectHead, dedupeHead } from "./head.tsx";
import { type IslandRender, trackIslands } from "./island_hook.ts";
import { LIVE_RELOAD_SCRIPT } from "./live_reload.ts";
import { PropsSerializer } from "./serialize.ts";
import type { AssetDeps } from "./bundle.ts";
import type { Styler } from "./twind.ts";

/** What the renderer needs to know about the build and the mode. */
export interface DocumentOptions {
  buildId: string;
  deps: AssetDeps;
  styler: Styler;
  /** Adds the live reload snippet. */
  dev: boolean;
  /**
   * CSP nonce of this response: set on the loader script, the live reload snippet, the inlined
   * styles and on every `<script>` the page's components render (their text is escaped by Preact,
   * so a `<script` in the markup can only come from the app's own components).
   */
  nonce?: string;
}

/** URL prefix of the bundle files of build `buildId`. */
export function assetPrefix(buildId: string): string {
  return `/_frsh/js/${buildId}/`;
}

const HEAD_SPLIT = "<!--frsh-head-end-->";
const HAS_CHARSET = /<meta\b[^>]*\bcharset\s*=/i;
const HAS_VIEWPORT = /<meta\b[^>]*\bname\s*=\s*["']?viewport\b/i;
const TITLE = /<title\b[^>]*>[\s\S]*?<\/title>/gi;

function scriptsFor(
  islands: IslandRender,
  options: DocumentOptions,
): { preload: string[]; body: string } {
  const snippets: string[] = [];
  const preload = new Set<string>();
  if (islands.used.size > 0) {
    const prefix = assetPrefix(options.buildId);
    const { client } = options.deps;
    const imports = [
      `import{revive}from${JSON.stringify(prefix + client.file)};`,
    ];
    const entries: string[] = [];
    client.preload.forEach((f) => preload.add(prefix + f));
    [...islands.used].forEach((name, i) => {
      const asset = options.deps.islands[name];
      if (!asset) throw new Error(`Island "${name}" is missing from the build`);
      asset.preload.forEach((f) => preload.add(prefix + f));
      imports.push(`import i${i} from${JSON.stringify(prefix + asset.file)};`);
      entries.push(`${JSON.stringify(name)}:i${i}`);
    });
    const code = `${imports.join("")}revive({${entries.join(",")}});${options.dev ? LIVE_RELOAD_SCRIPT : ""}`;
    snippets.push(
      `<script type="application/json" id="__FRSH_STATE">${islands.serializer.toScriptJson()}</script>`,
      `<script type="module"${nonceAttr(options)}>${code}</script>`,
    );
  } else if (options.dev) {
    snippets.push(`<script${nonceAttr(options)}>${LIVE_RELOAD_SCRIPT}</script>`);
  }
  return { preload: [...preload], body: snippets.join("") };
}

function nonceAttr(options: DocumentOptions): string {
  return options.nonce ? ` nonce="${options.nonce.replace(/[^A-Za-z0-9+/=_-]/g, "")}"` : "";
}

function headExtras(existing: string, extra: string): string {
  const all = existing + extra;
  return (HAS_CHARSET.test(all) ? "" : `<meta charset="utf-8">`) +
    (HAS_VIEWPORT.test(all) ? "" : `<meta name="viewport" content="width=device-width, initial-scale=1">`);
}

/**
 * Render `tree` to a full HTML document. `tree` may render the whole
 * `<html>` element (Fresh 1.x `_app` style) or only the body content.
 * Throws what rendering throws, e.g. an `IslandPropsError`.
 */
export function renderDocument(tree: VNode, options: DocumentOptions): string {
  const headChunks: ComponentChildren[] = [];
  const islands: IslandRender = {
    serializer: new PropsSerializer(),
    used: new Set(),
  };
  const rendered = collectHead(
    (chunk) => headChunks.push(chunk),
    () => trackIslands(islands, () => renderToString(tree)),
  ).replace(/<script(?=[\s>])/g, `<script${nonceAttr(options)}`);
  const headNodes = dedupeHead(headChunks);
  const headHtml = headNodes.length ? renderToString(h(Fragment, null, headNodes)) : "";

  const classes: string[] = [];
  for (const name of islands.used) {
    classes.push(...(options.deps.islands[name]?.classes ?? []));
  }
  const styled = options.styler.style(headHtml + HEAD_SPLIT + rendered, classes);
  const split = styled.markup.indexOf(HEAD_SPLIT);
  const head = styled.markup.slice(0, split);
  const body = styled.markup.slice(split + HEAD_SPLIT.length);

  const scripts = scriptsFor(islands, options);
  const style = `<style id="__FRSH_TWIND"${nonceAttr(options)}>${
    styled.css.replace(/<\/style/gi, "<\\/style")
  }</style>`;
  const links = scripts.preload
    .map((href) => `<link rel="modulepreload" href="${href}">`)
    .join("");
  const tail = style + links;

  if (!/^\s*<html[\s>]/i.test(body)) {
    return `<!DOCTYPE html><html lang="en"><head>${
      headExtras(head, "")
    }${head}${tail}</head><body>${body}${scripts.body}</body></html>`;
  }
  return "<!DOCTYPE html>" + mergeIntoHtml(body, head, tail, scripts.body);
}

/** Merge head additions and scripts into an app-rendered `<html>` element. */
function mergeIntoHtml(
  html: string,
  head: string,
  tail: string,
  scripts: string,
): string {
  let out = html.replace(
    /^\s*<html\b([^>]*)>/i,
    (tag, attrs: string) => /\blang\s*=/i.test(attrs) ? tag.trimStart() : `<html lang="en"${attrs}>`,
  );
  const open = /<head\b[^>]*>/i.exec(out);
  const close = out.search(/<\/head>/i);
  if (open && close > open.index) {
    const start = open.index + open[0].length;
    let existing = out.slice(start, close);
    if (/<title\b/i.test(head)) existing = existing.replace(TITLE, "");
    out = out.slice(0, start) + headExtras(existing, head) + existing + head +
      tail + out.slice(close);
  } else {
    out = out.replace(
      /^<html\b[^>]*>/i,
      (tag) => `${tag}<head>${headExtras("", head)}${head}${tail}</head>`,
    );
  }
  const bodyEnd = out.lastIndexOf("</body>");
  if (bodyEnd >= 0) {
    return out.slice(0, bodyEnd) + scripts + out.slice(bodyEnd);
  }
  const htmlEnd = out.lastIndexOf("</html>");
  return htmlEnd >= 0 ? out.slice(0, htmlEnd) + scripts + out.slice(htmlEnd) : out + scripts;
}
