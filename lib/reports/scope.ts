/**
 * Who sees which slice of the reports: admins see everything (any dealer's slice on request); a
 * dealer admin sees only their own dealer's slice, and asking for another dealer is refused (403).
 */
import type { Role } from "../domain/user.ts";
import type { ReportFilters } from "./model.ts";

/** The caller, as far as the scope needs. */
export interface ReportViewer {
  roles: readonly Role[] | readonly string[];
  dealerId: string | null;
}

/** The filters a viewer gets, or why they may not have them. */
export type ScopedFilters =
  | {
    ok: true;
    filters: ReportFilters; /** True when the dealer is fixed by the viewer's role. */
    fixedDealer: boolean;
  }
  | { ok: false; status: 403; message: string };

/** Applies the viewer's scope to the filters they asked for. */
export function scopeReportFilters(viewer: ReportViewer, filters: ReportFilters): ScopedFilters {
  if (viewer.roles.includes("admin")) return { ok: true, filters, fixedDealer: false };
  if (!viewer.roles.includes("dealer_admin")) {
    return { ok: false, status: 403, message: "Reports are for admins and dealer admins." };
  }
  if (!viewer.dealerId) {
    return { ok: false, status: 403, message: "Your account belongs to no dealer, so there is no report to show." };
  }
  if (filters.dealerId && filters.dealerId !== viewer.dealerId) {
    return { ok: false, status: 403, message: "You can see your own dealer's reports only." };
  }
  return { ok: true, filters: { ...filters, dealerId: viewer.dealerId }, fixedDealer: true };
}
