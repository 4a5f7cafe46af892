/**
 * Server-side island detection. A Preact `options.__b` hook (called by
 * preact-render-to-string before each vnode renders) swaps an island's
 * component for a wrapper that records its props and surrounds its HTML
 * with `<!--frsh-NAME:N-->` … `<!--/frsh-NAME:N-->`. The browser runtime
 * hydrates what lies between those comments.
 * @module
 */
import { type ComponentType, createContext, Fragment, h, options, type VNode } from "preact";
import { useContext } from "preact/hooks";
import type { PropsSerializer } from "./serialize.ts";

/** An island component and the name used in markers and the bundle. */
export interface IslandInfo {
  name: string;
  component: ComponentType<Record<string, unknown>>;
}

/** What one page render learned about its islands. */
export interface IslandRender {
  serializer: PropsSerializer;
  /** Names of the islands used, in first-use order. */
  used: Set<string>;
}

const islandsByComponent = new Map<unknown, IslandInfo>();
const wrappers = new Map<IslandInfo, ComponentType<Record<string, unknown>>>();
/** The vnodes a wrapper created for the real island; left untouched. */
const innerVNodes = new WeakSet<VNode>();
/** True below an island: nested islands render as plain components. */
const InsideIsland = /* @__PURE__ */ createContext(false);

let active: IslandRender | null = null;

/** Make `islands` recognisable during server rendering. */
export function registerIslands(islands: IslandInfo[]): void {
  installHook();
  for (const island of islands) {
    const known = islandsByComponent.get(island.component);
    if (known && known.name !== island.name) {
      throw new Error(
        `Component is registered as island "${known.name}" and "${island.name}"`,
      );
    }
    islandsByComponent.set(island.component, island);
  }
}

/**
 * Run a synchronous render with island tracking on. Islands rendered by
 * `render` add their props to `state.serializer` and their name to `used`.
 */
export function trackIslands<T>(state: IslandRender, render: () => T): T {
  const previous = active;
  active = state;
  try {
    return render();
  } finally {
    active = previous;
  }
}

/** preact-render-to-string renders this Fragment as `<!--text-->`. */
const CommentFragment = Fragment as ComponentType<{ UNSTABLE_comment: string }>;

function comment(text: string): VNode<{ UNSTABLE_comment: string }> {
  return h(CommentFragment, { UNSTABLE_comment: text });
}

function wrapperFor(island: IslandInfo) {
  let wrapper = wrappers.get(island);
  if (wrapper) return wrapper;
  wrapper = function IslandMarker(props: Record<string, unknown>) {
    const nested = useContext(InsideIsland);
    const inner = h(island.component, props);
    innerVNodes.add(inner);
    if (nested || !active) return inner;
    const index = active.serializer.add(island.name, props);
    active.used.add(island.name);
    const marker = `frsh-${island.name}:${index}`;
    return h(
      Fragment,
      null,
      comment(marker),
      h(InsideIsland.Provider, { value: true }, inner),
      comment(`/${marker}`),
    );
  };
  wrappers.set(island, wrapper);
  return wrapper;
}

type DiffHook = (vnode: VNode) => void;
let installed = false;

/** Install the `options.__b` hook once; chained with existing hooks. */
function installHook(): void {
  if (installed) return;
  installed = true;
  const hooks = options as unknown as { __b?: DiffHook };
  const previous = hooks.__b;
  hooks.__b = (vnode: VNode) => {
    if (active && typeof vnode.type === "function" && !innerVNodes.has(vnode)) {
      const island = islandsByComponent.get(vnode.type);
      if (island) vnode.type = wrapperFor(island) as typeof vnode.type;
    }
    previous?.(vnode);
  };
}
