import type { FieldRef, FilterOperator, FilterScalar, ValidFilter, ValidQuery } from '../../protocol/index.js';

/** A value SQLite binds or returns for a sort key. */
export type SqlValue = string | number | null;

/** A compiled SQL fragment: text with `?` placeholders and their values, in order. */
export interface SqlFragment {
  sql: string;
  params: SqlValue[];
}

/**
 * The time-budget check, placed first in every WHERE clause so it runs before the costly terms.
 * `vidget_budget()` is a JS function (see RecordReader) that throws once the query's deadline has
 * passed; calling it on one row in 1,024 costs a few percent where a call per row cost 50-150%
 * (measured on 1M rows). better-sqlite3 exposes no progress handler, so this is how a running
 * statement is stopped from inside.
 */
export const BUDGET_SQL = '((rowid & 1023) <> 0 OR vidget_budget())';

/**
 * The SQL expression for a field. `data.*` paths are inlined as JSON-path literals (never values)
 * so an expression index on the same text can serve the query; `validateQuery` has already
 * limited every segment to `[A-Za-z0-9_]`, so the literal cannot break out of its quotes.
 */
export function fieldSql(field: FieldRef, form: 'value' | 'json' = 'value'): string {
  if (field.kind === 'column') return field.name;
  const path = jsonPath(field.path);
  // `value` gives SQL values (for compare and sort); `json` keeps true/1/"1" apart (for groupBy).
  return form === 'value' ? `json_extract(data, ${path})` : `(data -> ${path})`;
}

function jsonPath(path: string[]): string {
  return `'$.${path.map((s) => `"${s}"`).join('.')}'`;
}

/** JSON booleans come out of json_extract as 1/0, so ranges compare against those. */
function bind(value: FilterScalar): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

/**
 * Equality with null or a boolean. json_extract maps true to 1, so for data fields ask
 * json_type, which keeps true and 1 apart; null matches a JSON null and a missing field.
 */
function exactSql(field: FieldRef, value: null | boolean): string {
  if (field.kind === 'column') return `(${field.name} IS NULL)`; // only username can be compared with null
  const type = `json_type(data, ${jsonPath(field.path)})`;
  return value === null ? `(${type} IS NULL OR ${type} = 'null')` : `(${type} = '${value}')`;
}

/**
 * For a number compared with a data field: the field must hold a JSON number, since
 * json_extract gives true/false as 1/0 and `data.liked = 0` would match `false`. Only where
 * the comparison could match 0 or 1: the guard reads the row (json_type is not in the index),
 * so `data.score > 500` without it counts from the index alone (38 ms over 500,000 matches
 * where the guard made it 556, measured on 1M records).
 */
function numberGuard(field: FieldRef, operator: FilterOperator, values: number[]): string {
  if (field.kind !== 'data' || !values.some((v) => couldBeBoolean(operator, v))) return '';
  return `json_type(data, ${jsonPath(field.path)}) IN ('integer', 'real') AND `;
}

/** Whether `x <operator> value` holds for x = 0 or x = 1 (what JSON false and true read as). */
function couldBeBoolean(operator: FilterOperator, value: number): boolean {
  return [0, 1].some((x) => {
    switch (operator) {
      case '>':
        return x > value;
      case '>=':
        return x >= value;
      case '<':
        return x < value;
      case '<=':
        return x <= value;
      default:
        return x === value; // =, != and in
    }
  });
}

function filterSql(filter: ValidFilter, params: SqlValue[]): string {
  const x = fieldSql(filter.field);
  const { operator, value } = filter;
  switch (operator) {
    case 'exists': {
      const { field } = filter;
      // json_type is NULL only where the key is absent (a JSON null gives 'null').
      const present = field.kind === 'data' ? `json_type(data, ${jsonPath(field.path)}) IS NOT NULL` : field.name === 'username' ? 'username IS NOT NULL' : '1';
      return value === false ? `NOT (${present})` : present;
    }
    case 'in': {
      const values = value as FilterScalar[];
      const texts = values.filter((v) => typeof v === 'string');
      const numbers = values.filter((v) => typeof v === 'number');
      const any: string[] = [];
      if (texts.length > 0) any.push(`${x} IN (${texts.map(() => '?').join(', ')})`);
      if (numbers.length > 0) any.push(`(${numberGuard(filter.field, 'in', numbers as number[])}${x} IN (${numbers.map(() => '?').join(', ')}))`);
      params.push(...texts, ...numbers);
      for (const v of values) if (v === null || typeof v === 'boolean') any.push(exactSql(filter.field, v));
      return `(${any.join(' OR ')})`;
    }
    case 'contains':
      params.push(value as string);
      return `instr(${x}, ?) > 0`;
    case '=':
      if (value === null || typeof value === 'boolean') return exactSql(filter.field, value);
      params.push(value as string | number);
      return typeof value === 'number' ? `(${numberGuard(filter.field, '=', [value])}${x} = ?)` : `${x} = ?`;
    case '!=':
      // Negated, so records without the field match, as "not equal" reads.
      if (value === null || typeof value === 'boolean') return `NOT ${exactSql(filter.field, value)}`;
      params.push(value as string | number);
      return typeof value === 'number' ? `NOT coalesce(${numberGuard(filter.field, '=', [value])}${x} = ?, 0)` : `${x} IS NOT ?`;
    default:
      params.push(bind(value as FilterScalar));
      // SQLite orders numbers before all text: bound a numeric range below '' so text values
      // never satisfy a numeric comparison (and the bound still lets an index serve the range).
      return typeof value === 'number' ? `(${numberGuard(filter.field, operator, [value])}${x} ${operator} ? AND ${x} < '')` : `${x} ${operator} ?`;
  }
}

/**
 * The `room = N` term. The id is inlined, not bound: per-room auto-indexes are partial indexes
 * (`WHERE room = N`), and SQLite uses a partial index only when the query names the same
 * literal. Room ids are integers the store assigned, never client text.
 */
export function roomSql(roomId: number): string {
  if (!Number.isSafeInteger(roomId)) throw new Error(`bad room id ${roomId}`);
  return `room = ${roomId}`;
}

/** Compiles the filters of a query into a WHERE clause for one room, the budget check first. */
export function whereSql(roomId: number, query: ValidQuery, budget = BUDGET_SQL): SqlFragment {
  const params: SqlValue[] = [];
  const clauses = [roomSql(roomId), budget];
  if (query.latestPerClient) {
    // Each client's newest record; served by the (room, client_id, id) index.
    clauses.push(`id IN (SELECT max(id) FROM records WHERE ${roomSql(roomId)} AND ${budget} GROUP BY client_id)`);
  }
  clauses.push(...query.filters.map((f) => filterSql(f, params)));
  return { sql: clauses.join(' AND '), params };
}

/** ORDER BY for a query; ties break on id in the same direction, so paging is stable. */
export function orderSql(query: ValidQuery): string {
  const dir = query.sortOrder === 'desc' ? 'DESC' : 'ASC';
  const sort = fieldSql(query.sortField);
  return sort === 'id' ? `id ${dir}` : `${sort} ${dir}, id ${dir}`;
}

/** A `groupBy`: the GROUP BY key, and the group's value as JSON text (so `true`, `1`, `"1"` stay apart). */
export function groupSql(field: FieldRef): { key: string; value: string } {
  // Grouping by the bare column lets its index give the order; json_quote makes the value JSON.
  if (field.kind === 'column') return { key: field.name, value: `json_quote(${field.name})` };
  const json = fieldSql(field, 'json');
  return { key: json, value: json };
}

/** One stretch of a keyset page: its extra WHERE terms and its ORDER BY. */
export interface PageSegment {
  where: SqlFragment;
  order: string;
}

/**
 * Where a keyset page (`after`) continues, as segments read in turn until the page is full.
 * SQLite sorts NULL first ascending and last descending, and a range such as `x > ?` never
 * matches NULL, so a nullable sort key continues in two segments (values, then NULLs, or the
 * reverse). Each segment is a plain range (`x >= k AND (x > k OR id > kid)`) that an index on
 * `(room, x, id)` serves directly, so a page deep in the room costs what the first page costs.
 */
export function pageSegments(query: ValidQuery, key: SqlValue, afterId: number): PageSegment[] {
  const desc = query.sortOrder === 'desc';
  const [lt, dir] = desc ? ['<', 'DESC'] : ['>', 'ASC'];
  const field = query.sortField;
  if (field.kind === 'column' && field.name === 'id') return [{ where: { sql: `id ${lt} ?`, params: [afterId] }, order: `id ${dir}` }];
  const x = fieldSql(field);
  const byKey = `${x} ${dir}, id ${dir}`;
  const nullable = field.kind === 'data' || field.name === 'username';
  if (key !== null) {
    const le = `${lt}=`;
    const values = { where: { sql: `${x} ${le} ? AND (${x} ${lt} ? OR id ${lt} ?)`, params: [key, key, afterId] }, order: byKey };
    // Descending, the NULLs come after every value.
    return desc && nullable ? [values, { where: { sql: `${x} IS NULL`, params: [] }, order: `id ${dir}` }] : [values];
  }
  const nulls = { where: { sql: `${x} IS NULL AND id ${lt} ?`, params: [afterId] }, order: `id ${dir}` };
  // Ascending, the values come after every NULL.
  return desc ? [nulls] : [nulls, { where: { sql: `${x} IS NOT NULL`, params: [] }, order: byKey }];
}

/** Every `data.*` field a query touches, as the expressions an index should cover. */
export function dataFields(query: ValidQuery): Array<{ field: FieldRef & { kind: 'data' }; form: 'value' | 'json' }> {
  const out: Array<{ field: FieldRef & { kind: 'data' }; form: 'value' | 'json' }> = [];
  for (const f of query.filters) if (f.field.kind === 'data') out.push({ field: f.field, form: 'value' });
  if (query.sortField.kind === 'data') out.push({ field: query.sortField, form: 'value' });
  if (query.groupBy?.kind === 'data') out.push({ field: query.groupBy, form: 'json' });
  return out;
}
