/**
 * The kinds of notification: which template each uses, whether the recipient may turn it off
 * (transactional kinds, about their own bookings and obligations, cannot be), and the label shown
 * on /me/notifications.
 */

/** Every kind of message. */
export const NOTIFICATION_KINDS = [
  "booking_confirmed",
  "booking_rescheduled",
  "booking_cancelled",
  "waitlist_offer",
  "reminder",
  "session_live",
  "recording_available",
  "manager_notice",
  "instructor_roster",
  "compliance_assignment",
  "compliance_due_soon",
  "compliance_overdue",
  "certification_expiring",
] as const;
export type NotificationKind = typeof NOTIFICATION_KINDS[number];

/** How a kind is sent. */
export interface KindInfo {
  template: string;
  /** The template of a digest gathering several of these into one email. */
  digestTemplate?: string;
  transactional: boolean;
  label: string;
}

/** Template, opt-out rule and label of each kind. */
export const KIND_INFO: Record<NotificationKind, KindInfo> = {
  booking_confirmed: { template: "booking_confirmed", transactional: true, label: "booking confirmations" },
  booking_rescheduled: { template: "booking_rescheduled", transactional: true, label: "booking changes" },
  booking_cancelled: { template: "booking_cancelled", transactional: true, label: "cancellations" },
  waitlist_offer: { template: "waitlist_offer", transactional: true, label: "waitlist offers" },
  reminder: { template: "reminder", transactional: false, label: "session reminders" },
  session_live: { template: "session_live", transactional: false, label: "\u201cnow live\u201d notices" },
  recording_available: { template: "recording_available", transactional: false, label: "recording notices" },
  manager_notice: {
    template: "manager_notice",
    digestTemplate: "manager_digest",
    transactional: false,
    label: "team booking notices",
  },
  // Always a digest: the changes of each hour in one email.
  instructor_roster: {
    template: "instructor_digest",
    digestTemplate: "instructor_digest",
    transactional: false,
    label: "roster changes",
  },
  compliance_assignment: { template: "compliance", transactional: true, label: "training assignments" },
  compliance_due_soon: { template: "compliance", transactional: false, label: "training due soon" },
  compliance_overdue: { template: "compliance", transactional: true, label: "overdue training" },
  certification_expiring: { template: "compliance", transactional: false, label: "expiring certifications" },
};

/** Whether the recipient may turn this kind off. */
export function isOptional(kind: NotificationKind): boolean {
  return !KIND_INFO[kind].transactional;
}

/**
 * Events of work other parts of the product do (attendance, recordings, compliance), by the names
 * agreed for them: each becomes the message kinds listed. Their producers are in ./produce.ts.
 */
export const EXTERNAL_EVENT_KINDS = {
  "recording.available": "recording_available",
  "assignment.created": "compliance_assignment",
  "assignment.due_soon": "compliance_due_soon",
  "assignment.overdue": "compliance_overdue",
  // To the manager's manager or the dealer admins only (the learner was told when it became overdue).
  "assignment.escalated": "compliance_overdue",
  "certification.expiring": "certification_expiring",
} as const satisfies Record<string, NotificationKind>;

/** Default reminder schedule: minutes before the start (1 week, 1 day, 1 hour). */
export const DEFAULT_REMINDER_OFFSETS_MIN: readonly number[] = [7 * 24 * 60, 24 * 60, 60];

/** "in 1 week", "tomorrow", "in 1 hour"… for a reminder `minutes` before the start. */
export function leadText(minutes: number): string {
  if (minutes % (7 * 24 * 60) === 0) {
    const w = minutes / (7 * 24 * 60);
    return `in ${w} week${w === 1 ? "" : "s"}`;
  }
  if (minutes === 24 * 60) return "tomorrow";
  if (minutes % (24 * 60) === 0) return `in ${minutes / (24 * 60)} days`;
  if (minutes % 60 === 0) return `in ${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
  return `in ${minutes} minutes`;
}
