/** Reads for managers and dealer admins: the bookings of their people (rule: ./access.ts `mayReadTeam`). */
import type { Booking } from "../domain/booking.ts";
import type { User } from "../domain/user.ts";
import { listBookingsByLearner } from "../store/bookings.ts";
import { listUsersByDealer, listUsersByManager } from "../store/users.ts";
import type { TeamScope } from "./access.ts";

/** One person of a team with their bookings (newest first). */
export interface TeamMemberBookings {
  learner: Pick<User, "id" | "name" | "email">;
  bookings: Booking[];
}

/** The people of a manager's team or of a dealer, by name, each with their bookings. */
export async function listTeamBookings(kv: Deno.Kv, scope: TeamScope): Promise<TeamMemberBookings[]> {
  const people = "managerId" in scope
    ? await listUsersByManager(kv, scope.managerId)
    : await listUsersByDealer(kv, scope.dealerId);
  return await Promise.all(people.map(async (u) => ({
    learner: { id: u.id, name: u.name, email: u.email },
    bookings: (await listBookingsByLearner(kv, u.id)).reverse(),
  })));
}
