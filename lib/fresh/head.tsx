/**
 * `<Head>`: lets pages, layouts and components add elements to the
 * document head during server rendering. In the browser it renders nothing.
 * @module
 */
import type { ComponentChildren, VNode } from "preact";
import { toChildArray } from "preact";

type HeadSink = (children: ComponentChildren) => void;

let sink: HeadSink | null = null;

/**
 * Route `<Head>` children to `collect` while `render` runs (server only).
 * Rendering is synchronous, so a module-level sink is safe.
 */
export function collectHead<T>(collect: HeadSink, render: () => T): T {
  const previous = sink;
  sink = collect;
  try {
    return render();
  } finally {
    sink = previous;
  }
}

/** Adds its children to the page's `<head>` (server rendering only). */
export function Head(props: { children?: ComponentChildren }): null {
  sink?.(props.children);
  return null;
}

/**
 * Flatten collected head children and drop duplicates: for elements with
 * the same `key`, and for `<title>`, the last one wins and keeps its place.
 */
export function dedupeHead(chunks: ComponentChildren[]): VNode[] {
  const all: VNode[] = [];
  for (const chunk of chunks) {
    for (const child of toChildArray(chunk)) {
      if (typeof child === "object") all.push(child);
    }
  }
  const seen = new Set<unknown>();
  const kept: VNode[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const node = all[i];
    const id = node.type === "title" ? "\0title" : node.key;
    if (id !== undefined && id !== null) {
      if (seen.has(id)) continue;
      seen.add(id);
    }
    kept.push(node);
  }
  return kept.reverse();
}
