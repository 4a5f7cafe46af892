/**
 * The browser runtime. The page's module script imports it and the islands
 * the page uses, then calls `revive`. It reads `#__FRSH_STATE`, finds each
 * `<!--frsh-NAME:N-->` … `<!--/frsh-NAME:N-->` pair and hydrates the island
 * in place, using a stand-in parent that only spans the nodes between the
 * two comments.
 * @module
 */
import { type ComponentType, h, hydrate } from "preact";
import { signal } from "@preact/signals";
import { deserializeProps } from "./deserialize.ts";

const START = /^frsh-(.+):(\d+)$/;

/** A start/end comment pair around one island's server-rendered HTML. */
export interface IslandMarker {
  name: string;
  index: number;
  start: Comment;
  end: Comment;
}

/** Find every island marker pair below `root`, in document order. */
export function findIslandMarkers(root: Node): IslandMarker[] {
  const found: IslandMarker[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_COMMENT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const match = START.exec((node as Comment).data);
    if (!match) continue;
    const closing = `/${match[0]}`;
    let end = node.nextSibling;
    while (end && !(end.nodeType === 8 && (end as Comment).data === closing)) {
      end = end.nextSibling;
    }
    if (!end) throw new Error(`Island marker ${match[0]} is not closed`);
    found.push({
      name: match[1],
      index: Number(match[2]),
      start: node as Comment,
      end: end as Comment,
    });
  }
  return found;
}

/**
 * An object that looks enough like a DOM parent for Preact's `hydrate` and
 * later updates: its children are the siblings between `start` and `end`.
 */
function markerRoot(start: Comment, end: Comment): Element {
  const parent = start.parentNode!;
  const between = () => {
    const nodes: ChildNode[] = [];
    for (let n = start.nextSibling; n && n !== end; n = n.nextSibling) {
      nodes.push(n);
    }
    return nodes;
  };
  const root = {
    nodeType: 1,
    parentNode: parent,
    namespaceURI: (parent as Element).namespaceURI,
    ownerDocument: parent.ownerDocument,
    get firstChild() {
      const first = start.nextSibling;
      return first === end ? null : first;
    },
    get childNodes() {
      return between();
    },
    insertBefore(node: Node, ref: Node | null) {
      return parent.insertBefore(node, ref ?? end);
    },
    appendChild(node: Node) {
      return parent.insertBefore(node, end);
    },
    removeChild(node: Node) {
      return parent.removeChild(node);
    },
    contains(node: Node | null) {
      return between().some((n) => n === node || n.contains(node));
    },
  };
  return root as unknown as Element;
}

/** Hydrate every island on the page. `islands` maps names to components. */
export function revive(
  islands: Record<string, ComponentType<Record<string, unknown>>>,
): void {
  const stateEl = document.getElementById("__FRSH_STATE");
  const props = stateEl ? deserializeProps(JSON.parse(stateEl.textContent ?? "{}"), signal) : [];
  for (const marker of findIslandMarkers(document.body)) {
    const island = islands[marker.name];
    if (!island) continue; // markers of islands this page did not import
    hydrate(
      h(island, props[marker.index] ?? {}),
      markerRoot(marker.start, marker.end),
    );
  }
}
