/** A request's path and query, read from its request line without a URL parser that can throw. */
export interface RequestTarget {
  /** The path as sent (still percent-encoded), always starting with `/`. */
  pathname: string;
  query: URLSearchParams;
}

/** Longest request target read; Node already caps the whole header block at 16 KB. */
const MAX_TARGET = 8192;

/**
 * Parses an origin-form request target (`/path?query`). Anything else (`//host`, absolute
 * `http://…` forms meant for proxies, `*`, garbage) is undefined, and the caller answers 400:
 * `new URL(target, base)` throws on some of these, and one throw outside a try ended the process.
 */
export function parseTarget(raw: string | undefined): RequestTarget | undefined {
  if (!raw || raw.length > MAX_TARGET || raw[0] !== '/' || raw[1] === '/') return undefined;
  const q = raw.indexOf('?');
  const hash = raw.indexOf('#');
  const end = hash >= 0 ? hash : raw.length;
  const pathname = q >= 0 && q < end ? raw.slice(0, q) : raw.slice(0, end);
  // URLSearchParams never throws: a malformed escape stays as it was.
  const query = new URLSearchParams(q >= 0 && q < end ? raw.slice(q + 1, end) : '');
  return { pathname, query };
}

/** Decodes one percent-encoded path segment; undefined for a malformed escape (`%zz`, `%E0%A4`). */
export function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The decoded, non-empty segments of a path; undefined if any escape is malformed. */
export function pathSegments(pathname: string): string[] | undefined {
  const out: string[] = [];
  for (const raw of pathname.split('/')) {
    if (!raw) continue;
    const segment = decodeSegment(raw);
    if (segment === undefined) return undefined;
    out.push(segment);
  }
  return out;
}
