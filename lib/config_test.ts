import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";

Deno.test("[config] HOST and HEADER_TIMEOUT_MS: defaults, accepted values, and errors naming the variable", () => {
  const base = loadConfig({});
  assert.equal(base.hostname, "0.0.0.0", "every IPv4 interface, as before");
  assert.equal(base.headerTimeoutMs, 10_000);
  for (const host of ["127.0.0.1", "::1", "::", "localhost", "app.internal"]) {
    assert.equal(loadConfig({ HOST: host }).hostname, host);
  }
  assert.equal(loadConfig({ HOST: "" }).hostname, "0.0.0.0", "empty means unset");
  assert.equal(loadConfig({ HEADER_TIMEOUT_MS: "500" }).headerTimeoutMs, 500);
  for (const host of ["bad host", "1.2.3.4:80", "[::1]", "http://x"]) {
    assert.throws(() => loadConfig({ HOST: host }), /HOST: must be an IP address or a host name/, host);
  }
  for (const ms of ["0", "50", "-1", "1.5", "ten", "600001"]) {
    assert.throws(() => loadConfig({ HEADER_TIMEOUT_MS: ms }), /HEADER_TIMEOUT_MS: /, ms);
  }
});
