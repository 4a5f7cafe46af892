/** The booking engine's names for the store's keys (every key is defined in lib/store/keys.ts). */
import { keys } from "../store/keys.ts";

export const K = {
  session: keys.session,
  course: keys.course,
  user: keys.user,
  location: keys.location,
  seats: keys.seats,
  hold: keys.hold,
  holdsBySession: keys.holdsBySessionPrefix,
  holdBySession: keys.holdBySession,
  holdsByExpiry: keys.holdsByExpiryPrefix,
  holdByExpiry: keys.holdByExpiry,
  learnerHolds: keys.learnerHolds,
  place: keys.place,
  places: keys.placesPrefix,
  booking: keys.booking,
  bookingBySession: keys.bookingBySession,
  bookingsBySession: keys.bookingsBySessionPrefix,
  bookingByLearner: keys.bookingByLearner,
  waitlist: keys.waitlistPrefix,
  waitlistEntry: keys.waitlistEntry,
  waitlistByLearner: keys.waitlistByLearner,
  sessionsByCourse: keys.sessionsByCoursePrefix,
  eventsPrefix: keys.eventsPrefix,
  event: keys.event,
  idempotency: keys.idempotency,
};
