/**
 * Finds the class names an island may add only in the browser (after a
 * click, say). The rule: any whitespace-separated token inside a string or
 * template literal of the island's own source file counts as a candidate
 * class; twind ignores tokens it does not know. Classes built at run time
 * (`bg-${color}-500`) or living in imported components are not seen.
 * @module
 */

const LITERAL = /"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g;
const CLASS_TOKEN = /^!?-?[a-z@\[][\w\-:\/\.\[\]#%,()!&'"=]*$/i;

/** Candidate class tokens in `source`, sorted and de-duplicated. */
export function scanClassCandidates(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(LITERAL)) {
    const text = (match[1] ?? match[2] ?? match[3] ?? "")
      .replace(/\$\{[^}]*\}/g, " ");
    for (const token of text.split(/\s+/)) {
      if (token.length > 1 && token.length < 80 && CLASS_TOKEN.test(token)) {
        found.add(token);
      }
    }
  }
  return [...found].sort();
}
