import { ErrorCode, VidgetError } from './errors.js';

/** Comparison operators a search filter may use. */
export type FilterOperator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'in' | 'contains' | 'exists';

/** A scalar a filter compares against. */
export type FilterScalar = string | number | boolean | null;

/** One filter of a search: `{ field: 'data.score', operator: '>', value: 55 }`. */
export interface SearchFilter {
  /** `id`, `created`, `client_id`, `username`, or `data.<path>` (dotted, max depth 8). */
  field: string;
  operator: FilterOperator;
  /** A scalar; an array of scalars for `in`; a string for `contains`; a boolean (default true) for `exists`. */
  value?: FilterScalar | FilterScalar[];
}

/** The Cinema8 search query over a room's persisted records. */
export interface SearchQuery {
  /** Field to sort by; default `id` (publish order). */
  sortField?: string;
  /** `asc` (default) or `desc`. */
  sortOrder?: 'asc' | 'desc';
  /** Records to skip; default 0, at most {@link MAX_OFFSET}. For deeper pages use `after`. */
  offset?: number;
  /**
   * Keyset paging (a Vidget extension): the `id` of the last record of the previous page (its
   * result's `next`). The page continues after that record in this query's sort order, at the
   * same cost however deep it is. Not combined with `offset`.
   */
  after?: number;
  /** Records to return; default 10, at most {@link MAX_LIMIT}. 0 returns only `total` (and `groups`). */
  limit?: number;
  /** All must match. */
  filters?: SearchFilter[];
  /** Group the filtered set by this field: `groups: [{ value, count }]`. */
  groupBy?: string;
  /**
   * Only each client's newest record (a Vidget extension): a client that votes again changes
   * its vote instead of adding one. Filters, sort, paging and groupBy apply to that set.
   */
  latestPerClient?: boolean;
}

/** One group of a `groupBy` search. */
export interface SearchGroup {
  value: FilterScalar;
  count: number;
}

/** The largest `limit` a search may ask for. */
export const MAX_LIMIT = 1000;
/**
 * The largest `offset`. Skipping costs a read of every skipped record, so deep pages use `after`
 * (keyset paging), whose cost does not grow with depth.
 */
export const MAX_OFFSET = 10_000;
const MAX_FILTERS = 16;
const MAX_IN_VALUES = 100;
const MAX_STRING = 1_000;
const MAX_DEPTH = 8;

/** A record column a query may name. */
export type ColumnName = 'id' | 'created' | 'client_id' | 'username';

/** A checked field: a record column, or a path of safe segments inside `data`. */
export type FieldRef = { kind: 'column'; name: ColumnName } | { kind: 'data'; path: string[] };

/** A filter after validation: operator and value types agree with the field. */
export interface ValidFilter {
  field: FieldRef;
  operator: FilterOperator;
  value: FilterScalar | FilterScalar[];
}

/** A query after validation, with every default filled in. */
export interface ValidQuery {
  sortField: FieldRef;
  sortOrder: 'asc' | 'desc';
  offset: number;
  limit: number;
  filters: ValidFilter[];
  groupBy?: FieldRef;
  latestPerClient: boolean;
  /** Keyset cursor: continue after the record with this id (in the sort order). */
  after?: number;
}

const COLUMNS: Record<ColumnName, 'number' | 'string'> = {
  id: 'number',
  created: 'number',
  client_id: 'string',
  username: 'string',
};
const OPERATORS = new Set<FilterOperator>(['=', '!=', '>', '>=', '<', '<=', 'in', 'contains', 'exists']);
// Segments are inlined into SQL JSON paths (so an expression index can match), hence this strict grammar.
const SEGMENT = /^[A-Za-z0-9_]{1,64}$/;

function bad(message: string): never {
  throw new VidgetError(ErrorCode.BadQuery, message);
}

/** Parses a field path against the grammar `id | created | client_id | username | data.a.b`. */
export function parseField(field: unknown, what = 'field'): FieldRef {
  if (typeof field !== 'string') bad(`${what} must be a string`);
  if (Object.hasOwn(COLUMNS, field)) return { kind: 'column', name: field as ColumnName };
  const parts = field.split('.');
  if (parts[0] !== 'data' || parts.length < 2) {
    bad(`${what} "${field.slice(0, 80)}" must be id, created, client_id, username or data.<path>`);
  }
  const path = parts.slice(1);
  if (path.length > MAX_DEPTH) bad(`${what} "${field.slice(0, 80)}" is deeper than ${MAX_DEPTH}`);
  for (const segment of path) {
    if (!SEGMENT.test(segment)) bad(`${what} "${field.slice(0, 80)}" has a segment outside A-Z a-z 0-9 _`);
  }
  return { kind: 'data', path };
}

function isScalar(value: unknown): value is FilterScalar {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && value.length <= MAX_STRING;
}

function checkValue(field: FieldRef, operator: FilterOperator, value: unknown): FilterScalar | FilterScalar[] {
  const columnType = field.kind === 'column' ? COLUMNS[field.name] : undefined;
  const fits = (v: FilterScalar): boolean => columnType === undefined || typeof v === columnType || (v === null && field.kind === 'column' && field.name === 'username');
  switch (operator) {
    case 'exists':
      if (value === undefined) return true;
      if (typeof value !== 'boolean') bad('exists takes true or false');
      return value;
    case 'in':
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) {
        bad(`in takes an array of 1-${MAX_IN_VALUES} values`);
      }
      for (const v of value) if (!isScalar(v) || !fits(v)) bad("in takes scalars of the field's type");
      return value as FilterScalar[];
    case 'contains':
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING) {
        bad(`contains takes a string of 1-${MAX_STRING} characters`);
      }
      if (columnType === 'number') bad('contains needs a text field');
      return value;
    case '=':
    case '!=':
      if (!isScalar(value) || !fits(value)) bad(`${operator} takes a string, number, boolean or null of the field's type`);
      return value;
    default:
      if (typeof value !== 'number' && typeof value !== 'string') bad(`${operator} takes a number or string`);
      if (!isScalar(value) || !fits(value)) bad(`${operator} takes a value of the field's type`);
      return value;
  }
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    bad(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * Validates an untrusted search query at the boundary and fills in defaults.
 * Throws `VidgetError('bad_query')` naming what is wrong.
 */
export function validateQuery(input: unknown): ValidQuery {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) bad('query must be an object');
  const q = input as Record<string, unknown>;
  for (const key of Object.keys(q)) {
    if (!['sortField', 'sortOrder', 'offset', 'limit', 'filters', 'groupBy', 'latestPerClient', 'after'].includes(key)) bad(`unknown query option "${key.slice(0, 40)}"`);
  }
  const sortOrder = q.sortOrder ?? 'asc';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') bad('sortOrder must be "asc" or "desc"');
  const filtersIn = q.filters ?? [];
  if (!Array.isArray(filtersIn) || filtersIn.length > MAX_FILTERS) bad(`filters must be an array of at most ${MAX_FILTERS}`);
  const filters = filtersIn.map((f: unknown, i): ValidFilter => {
    if (typeof f !== 'object' || f === null || Array.isArray(f)) bad(`filters[${i}] must be an object`);
    const { field, operator, value } = f as Record<string, unknown>;
    const ref = parseField(field, `filters[${i}].field`);
    if (typeof operator !== 'string' || !OPERATORS.has(operator as FilterOperator)) {
      bad(`filters[${i}].operator must be one of ${[...OPERATORS].join(' ')}`);
    }
    const op = operator as FilterOperator;
    return { field: ref, operator: op, value: checkValue(ref, op, value) };
  });
  const query: ValidQuery = {
    sortField: q.sortField === undefined ? { kind: 'column', name: 'id' } : parseField(q.sortField, 'sortField'),
    sortOrder,
    offset: integer(q.offset, 'offset', 0, MAX_OFFSET, 0),
    limit: integer(q.limit, 'limit', 0, MAX_LIMIT, 10),
    filters,
    latestPerClient: q.latestPerClient === true,
  };
  if (q.latestPerClient !== undefined && typeof q.latestPerClient !== 'boolean') bad('latestPerClient must be true or false');
  if (q.groupBy !== undefined) query.groupBy = parseField(q.groupBy, 'groupBy');
  if (q.after !== undefined) {
    query.after = integer(q.after, 'after', 0, Number.MAX_SAFE_INTEGER, 0);
    if (q.offset !== undefined) bad('after and offset cannot be combined: after already says where the page starts');
  }
  return query;
}
