/**
 * Deterministic demo data: training centers, courses, dealers, people,
 * sessions and bookings.
 * @module
 */
export * from "./seed.ts";
export { buildDemoData, DEFAULT_SEED, type DemoData } from "./demo_data.ts";
export { DEMO_EMAILS, LEARNER_COUNT } from "./build_people.ts";
export { BUSINESS_END, BUSINESS_START, SCHEDULE_DAYS, SESSION_COUNT } from "./build_schedule.ts";
export { Random } from "./random.ts";
export { seedReportHistory } from "./report_history.ts";
