/**
 * Timestamps as Go writes and reads them, so state.json and slot files stay byte-compatible with
 * the original: RFC3339Nano in local time with trailing fraction zeros trimmed, and the zero time.
 */
export const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

/**
 * The local UTC offset at instant `ms`, in minutes east of UTC (Paris: +60 in winter, +120 in summer).
 * The default of every formatter here, and the only place they consult the process's zone: read per
 * instant, because a DST change moves it.
 */
export function localOffsetMin(ms: number): number {
  return -new Date(ms).getTimezoneOffset();
}

/** Instant `ms` as the wall clock at `offsetMin` reads it: the UTC getters of the result give its fields. */
function wallClock(ms: number, offsetMin: number): Date {
  return new Date(ms + offsetMin * 60_000);
}

/** `offsetMin` defaults to the local offset at `ms`, so the daemon writes local time as Go does. */
export function formatGoTime(ms: number | null, offsetMin?: number): string {
  if (ms === null) return GO_ZERO_TIME;
  const offMin = offsetMin ?? localOffsetMin(ms);
  const d = wallClock(ms, offMin);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const frac = d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3).replace(/0+$/, "")}` : "";
  const zone =
    offMin === 0 ? "Z" : `${offMin > 0 ? "+" : "-"}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}${zone}`
  );
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Parse RFC3339 (any fraction length). Returns epoch ms, null for the zero time, undefined when invalid. */
export function parseGoTime(text: unknown): number | null | undefined {
  if (typeof text !== "string") return undefined;
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (Number(y) <= 1) return null;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  // Refuse what Go's time.Parse refuses (month 13, Feb 31, hour 25, ...) rather than rolling it over.
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // setUTCFullYear: years < 100 stay as given
  if (date.getUTCDate() !== Number(d)) return undefined;
  date.setUTCHours(Number(h), Number(mi), Number(s), ms);
  let t = date.getTime();
  if (Number.isNaN(t)) return undefined;
  if (zone && zone.toUpperCase() !== "Z") {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    const sign = zone.startsWith("-") ? -1 : 1;
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

/** Go's log.LstdFlags prefix: `YYYY/MM/DD HH:MM:SS`, in local time unless `offsetMin` is given. */
export function formatLogStamp(ms: number, offsetMin = localOffsetMin(ms)): string {
  const d = wallClock(ms, offsetMin);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
