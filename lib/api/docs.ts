/** `/api/docs`: a readable page of the OpenAPI document, rendered on the server (no JavaScript). */

function esc(s: unknown): string {
  return String(s ?? "").replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

interface DocOperation {
  operationId: string;
  summary: string;
  description?: string;
  deprecated?: boolean;
  tags: string[];
  "x-roles"?: string[];
  security: unknown[];
  parameters: { name: string; in: string; required: boolean; description?: string }[];
  requestBody?: { content: { "application/json": { schema: unknown } } };
  responses: Record<string, { description: string }>;
}

/** Renders the document as one HTML page grouped by tag. */
export function renderApiDocs(doc: Record<string, unknown>): string {
  const paths = doc.paths as Record<string, Record<string, DocOperation>>;
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const who = op["x-roles"] ? op["x-roles"].join(" or ") : op.security.length ? "signed in" : "public";
      const params = op.parameters.map((p) =>
        `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ", required" : ""})${
          p.description ? `: ${esc(p.description)}` : ""
        }</li>`
      ).join("");
      const body = op.requestBody
        ? `<details><summary>Request body</summary><pre>${
          esc(JSON.stringify(op.requestBody.content["application/json"].schema, null, 2))
        }</pre></details>`
        : "";
      const responses = Object.entries(op.responses).map(([s, r]) => `<li><b>${esc(s)}</b> ${esc(r.description)}</li>`)
        .join("");
      const html = `<section id="${esc(op.operationId)}"><h3><span class="m">${esc(method.toUpperCase())}</span> ` +
        `<code>/api${esc(path)}</code></h3><p>${op.deprecated ? "<b>Deprecated.</b> " : ""}${esc(op.summary)} ` +
        `<small>(${esc(who)})</small></p>` +
        (op.description ? `<p>${esc(op.description)}</p>` : "") +
        (params ? `<h4>Parameters</h4><ul>${params}</ul>` : "") + body +
        `<h4>Responses</h4><ul>${responses}</ul></section>`;
      const tag = op.tags[0] ?? "Other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), html]);
    }
  }
  const info = doc.info as { title: string; version: string; description: string };
  const sections = [...byTag].map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.join("")}`).join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" ` +
    `content="width=device-width, initial-scale=1"><title>${esc(info.title)}</title><style>` +
    `body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:56rem;padding:1rem;color:#111}` +
    `code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f5;padding:.5rem;overflow:auto}` +
    `section{border-top:1px solid #ddd;padding:.5rem 0}.m{background:#1e3a8a;color:#fff;padding:0 .4rem;` +
    `border-radius:.25rem;font-size:.85em}h3{font-size:1.05rem;margin:.5rem 0}</style></head><body>` +
    `<h1>${esc(info.title)} <small>${esc(info.version)}</small></h1><p>${esc(info.description)}</p>` +
    `<p>Machine-readable: <a href="/api/openapi.json">/api/openapi.json</a>. Authenticate with ` +
    `<code>Authorization: Bearer &lt;token&gt;</code>.</p>${sections}</body></html>`;
}
