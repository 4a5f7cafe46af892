/** True inside the browser bundle, false during server rendering. */
export const IS_BROWSER: boolean = typeof document !== "undefined";
