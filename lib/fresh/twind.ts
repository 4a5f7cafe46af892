/**
 * Server-side styling with twind v1. Every page gets a fresh virtual sheet,
 * so only the rules that page uses end up in its `<style>` and nothing
 * accumulates between requests. The browser never loads twind.
 * @module
 */
import { consume, defineConfig, stringify, twind, type TwindConfig, type TwindUserConfig, virtual } from "@twind/core";
import presetTailwind from "@twind/preset-tailwind";

// The theme type varies with the presets; user configs only extend it.
// deno-lint-ignore no-explicit-any
type AnyConfig = TwindUserConfig<any>;

export type { TwindUserConfig };

/** Turns rendered markup into the CSS it needs. */
export interface Styler {
  /**
   * Collect the classes used in `markup` plus `extraClasses` (classes the
   * page's islands may add in the browser) and return the CSS for them,
   * preflight included. `markup` comes back normalised by twind.
   */
  style(markup: string, extraClasses?: Iterable<string>): {
    markup: string;
    css: string;
  };
}

/** Create a styler using preset-tailwind with `user` config merged over it. */
export function createStyler(user: TwindUserConfig = {}): Styler {
  const config = defineConfig({
    ...user,
    presets: [presetTailwind(), ...(user.presets ?? [])],
  } as AnyConfig) as TwindConfig;
  return {
    style(markup, extraClasses = []) {
      const tw = twind(config, virtual());
      const out = consume(markup, tw);
      for (const token of extraClasses) tw(token);
      return { markup: out, css: stringify(tw.target) };
    },
  };
}
