/**
 * Parses a duration for settings: a count and a unit, `s`, `m`, `h` or `d` (`90s`, `15m`,
 * `6h`, `30d`), into milliseconds. Throws a clear error naming what it got.
 */
export function parseDuration(text: string): number {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`a duration is a count and s|m|h|d, e.g. "30d"; got "${text.slice(0, 32)}"`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd'];
}
