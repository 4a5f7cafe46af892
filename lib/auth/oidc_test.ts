import assert from "node:assert/strict";
import { loadConfig } from "../config.ts";
import { redirectUriFor, rolesFromClaims } from "./oidc.ts";

const settings = loadConfig({
  OIDC_ISSUER: "https://id.example.com",
  OIDC_CLIENT_ID: "app",
  OIDC_CLIENT_SECRET: "secret",
  OIDC_ROLES_CLAIM: "groups",
  OIDC_ROLE_MAP: "training-admins:admin,trainers:instructor,team-leads:manager",
}).oidc!;

Deno.test("[oidc] roles come from the roles claim through OIDC_ROLE_MAP; an unmapped user is a learner", () => {
  assert.deepEqual(rolesFromClaims(settings, { groups: ["staff", "trainers"] }), ["instructor"]);
  assert.deepEqual(rolesFromClaims(settings, { groups: "training-admins" }), ["admin"], "a single string counts");
  assert.deepEqual(rolesFromClaims(settings, { groups: ["trainers", "team-leads", "trainers"] }), [
    "instructor",
    "manager",
  ]);
  assert.deepEqual(rolesFromClaims(settings, { groups: ["staff"] }), ["learner"]);
  assert.deepEqual(rolesFromClaims(settings, {}), ["learner"], "no claim");
  assert.deepEqual(rolesFromClaims(settings, { groups: [42, { admin: true }] }), ["learner"], "not strings");
  assert.deepEqual(rolesFromClaims(settings, { roles: ["training-admins"] }), ["learner"], "another claim");
});

Deno.test("[oidc] the redirect URL is OIDC_REDIRECT_URL when set, else the request's origin + /auth/callback", () => {
  assert.equal(redirectUriFor(settings, "https://training.example.com"), "https://training.example.com/auth/callback");
  const fixed = loadConfig({
    OIDC_ISSUER: "https://id.example.com",
    OIDC_CLIENT_ID: "app",
    OIDC_CLIENT_SECRET: "secret",
    OIDC_REDIRECT_URL: "https://training.example.com/auth/callback",
  }).oidc!;
  assert.equal(redirectUriFor(fixed, "http://evil.example"), "https://training.example.com/auth/callback");
});
