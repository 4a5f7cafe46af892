/** axe-core (WCAG 2.1 A and AA rules) in a real page, for every browser test. */
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";

const AXE_SOURCE = (axe as unknown as { source: string }).source;

/** Violations as `rule: selector, …` strings (empty when clean). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, not as a page <script>: the pages' CSP allows only
  // scripts with the response's nonce, and a test tool must not need a hole in it.
  await page.evaluate(AXE_SOURCE);
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    // deno-lint-ignore no-explicit-any
    return result.violations.map((v: any) => `${v.id}: ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
  });
}

/** Fails the test when axe finds any violation on the page. */
export async function checkAxe(page: Page, name: string): Promise<void> {
  assert.deepEqual(await axeViolations(page), [], `axe on ${name}`);
}
