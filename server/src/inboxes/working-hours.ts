import { errors } from '../kernel/errors.js';
import type { WorkingHourInput } from './schemas.js';

/**
 * An inbox's weekly working hours, as the reference keeps them: one entry per day of the week
 * (0 = Sunday), either closed all day, open all day (0:00-23:59) or open from one time to a later
 * one. Stored as the JSON of the whole week (inboxes.working_hours); NULL is the reference's default.
 */

export type WorkingHour = {
  day_of_week: number;
  closed_all_day: boolean;
  open_hour: number | null;
  open_minutes: number | null;
  close_hour: number | null;
  close_minutes: number | null;
  open_all_day: boolean;
};

const closed = (day: number): WorkingHour => ({
  day_of_week: day,
  closed_all_day: true,
  open_hour: null,
  open_minutes: null,
  close_hour: null,
  close_minutes: null,
  open_all_day: false,
});
const nineToFive = (day: number): WorkingHour => ({
  day_of_week: day,
  closed_all_day: false,
  open_hour: 9,
  open_minutes: 0,
  close_hour: 17,
  close_minutes: 0,
  open_all_day: false,
});

/** The reference's schedule of a new inbox: Monday to Friday 9:00-17:00, closed on Saturday and Sunday. */
export const DEFAULT_WORKING_HOURS: readonly WorkingHour[] = [0, 1, 2, 3, 4, 5, 6].map((d) => (d === 0 || d === 6 ? closed(d) : nineToFive(d)));

/** The stored week (or the default one), ordered by day_of_week. */
export function weeklySchedule(stored: string | null): WorkingHour[] {
  if (!stored) return DEFAULT_WORKING_HOURS.map((d) => ({ ...d }));
  const parsed = JSON.parse(stored) as WorkingHour[];
  return DEFAULT_WORKING_HOURS.map((d) => ({ ...d, ...(parsed.find((p) => p.day_of_week === d.day_of_week) ?? {}) }));
}

/**
 * Applies the days sent (only the fields sent change, as the reference's update_working_hours) and
 * validates every changed day as the reference's WorkingHour does; 422 naming `working_hours` otherwise.
 */
export function applyWorkingHours(stored: string | null, input: WorkingHourInput[]): string {
  const week = weeklySchedule(stored);
  for (const entry of input) {
    const day = week[entry.day_of_week];
    const next: WorkingHour = { ...day };
    for (const k of ['closed_all_day', 'open_all_day', 'open_hour', 'open_minutes', 'close_hour', 'close_minutes'] as const) {
      if (entry[k] !== undefined) (next as Record<string, unknown>)[k] = entry[k];
    }
    const name = `working_hours[day_of_week=${entry.day_of_week}]`;
    if (next.open_all_day && next.closed_all_day) throw errors.invalid(`${name}: open_all_day and closed_all_day cannot be true at the same time`, ['working_hours']);
    if (next.open_all_day) Object.assign(next, { open_hour: 0, open_minutes: 0, close_hour: 23, close_minutes: 59 });
    if (!next.closed_all_day) {
      if (next.open_hour == null || next.open_minutes == null || next.close_hour == null || next.close_minutes == null) {
        throw errors.invalid(`${name}: open_hour, open_minutes, close_hour and close_minutes are required unless closed_all_day`, ['working_hours']);
      }
      if (next.open_hour * 60 + next.open_minutes >= next.close_hour * 60 + next.close_minutes) {
        throw errors.invalid(`${name}: Closing time cannot be before opening time`, ['working_hours']);
      }
    }
    week[entry.day_of_week] = next;
  }
  return JSON.stringify(week);
}
