/**
 * Quota windows. Days are calendar days in an IANA time zone (via Intl, so DST and odd
 * offsets are the platform's ICU data, not ours); minutes are fixed UTC minutes.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws RangeError for an unknown zone: better at construction than at the first request.
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function keyOf(w: WallClock): string {
  return `${w.year < 0 ? "-" + pad(-w.year, 6) : pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** Throws RangeError if `timeZone` is not a zone the platform knows. */
export function assertTimeZone(timeZone: string): void {
  formatter(timeZone);
}

/** The calendar day (YYYY-MM-DD) that `now` falls on in `timeZone`. */
export function dayKey(now: Date, timeZone: string): string {
  return keyOf(wallClock(now.getTime(), timeZone));
}

/**
 * The first instant (epoch ms) after `now` whose local day differs from `now`'s: the next
 * local midnight, or wherever the day really starts when a DST change skips midnight.
 */
export function nextDayStart(now: Date, timeZone: string): number {
  const t = now.getTime();
  const today = dayKey(now, timeZone);
  const w = wallClock(t, timeZone);
  // A first guess assuming no offset change before midnight; walk on by hours if a change
  // (clocks back) puts it still inside today.
  const sinceMidnight = ((w.hour * 60 + w.minute) * 60 + w.second) * 1000 + (((t % 1000) + 1000) % 1000);
  let hi = t + Math.max(1, DAY_MS - sinceMidnight);
  for (let i = 0; i < 48 && dayKey(new Date(hi), timeZone) === today; i++) hi += HOUR_MS;
  // Binary search for the first instant of the next day. The window is kept to 2 h before
  // `hi`, where the local day is monotonic in every real zone.
  let lo = Math.max(t, hi - 2 * HOUR_MS);
  if (dayKey(new Date(lo), timeZone) !== today) lo = t;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayKey(new Date(mid), timeZone) === today) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Whole seconds (≥ 1, rounded up) from `now` until the next local day starts. */
export function secondsToNextDay(now: Date, timeZone: string): number {
  return Math.max(1, Math.ceil((nextDayStart(now, timeZone) - now.getTime()) / 1000));
}

/** The fixed UTC minute window `now` falls in: YYYY-MM-DDTHH:MM. */
export function minuteKey(now: Date): string {
  return now.toISOString().slice(0, 16);
}

/** Whole seconds (≥ 1, rounded up) from `now` until the next UTC minute starts. */
export function secondsToNextMinute(now: Date): number {
  const t = now.getTime();
  const next = Math.floor(t / 60_000) * 60_000 + 60_000;
  return Math.max(1, Math.ceil((next - t) / 1000));
}
