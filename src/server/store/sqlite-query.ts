import type { FieldRef, FilterScalar, ValidFilter, ValidQuery } from '../../protocol/index.js';

/** A compiled WHERE clause: SQL text with `?` placeholders and their values, in order. */
export interface SqlFragment {
  sql: string;
  params: Array<string | number | null>;
}

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
function bind(value: FilterScalar): string | number | null {
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
 * json_extract gives true/false as 1/0 and `data.liked = 0` would match `false`.
 */
function numberGuard(field: FieldRef): string {
  return field.kind === 'data' ? `json_type(data, ${jsonPath(field.path)}) IN ('integer', 'real') AND ` : '';
}

function filterSql(filter: ValidFilter, params: SqlFragment['params']): string {
  const x = fieldSql(filter.field);
  const { operator, value } = filter;
  switch (operator) {
    case 'exists': {
      const { field } = filter;
      // json_type is NULL only where the key is absent (a JSON null gives 'null').
      const present = field.kind === 'data'
        ? `json_type(data, ${jsonPath(field.path)}) IS NOT NULL`
        : field.name === 'username' ? 'username IS NOT NULL' : '1';
      return value === false ? `NOT (${present})` : present;
    }
    case 'in': {
      const values = value as FilterScalar[];
      const texts = values.filter((v) => typeof v === 'string');
      const numbers = values.filter((v) => typeof v === 'number');
      const any: string[] = [];
      if (texts.length > 0) any.push(`${x} IN (${texts.map(() => '?').join(', ')})`);
      if (numbers.length > 0) any.push(`(${numberGuard(filter.field)}${x} IN (${numbers.map(() => '?').join(', ')}))`);
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
      return typeof value === 'number' ? `(${numberGuard(filter.field)}${x} = ?)` : `${x} = ?`;
    case '!=':
      // Negated, so records without the field match, as "not equal" reads.
      if (value === null || typeof value === 'boolean') return `NOT ${exactSql(filter.field, value)}`;
      params.push(value as string | number);
      return typeof value === 'number' ? `NOT coalesce(${numberGuard(filter.field)}${x} = ?, 0)` : `${x} IS NOT ?`;
    default:
      params.push(bind(value as FilterScalar));
      // SQLite orders numbers before all text: bound a numeric range below '' so text values
      // never satisfy a numeric comparison (and the bound still lets an index serve the range).
      return typeof value === 'number' ? `(${numberGuard(filter.field)}${x} ${operator} ? AND ${x} < '')` : `${x} ${operator} ?`;
  }
}

/** Compiles the filters of a query into a WHERE clause for one room (`room = ?` comes first). */
export function whereSql(roomId: number, query: ValidQuery): SqlFragment {
  const params: SqlFragment['params'] = [roomId];
  const clauses = ['room = ?'];
  if (query.latestPerClient) {
    // Each client's newest record; served by the (room, client_id, id) index.
    clauses.push('id IN (SELECT max(id) FROM records WHERE room = ? GROUP BY client_id)');
    params.push(roomId);
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

/** Every `data.*` field a query touches, as the expressions an index should cover. */
export function dataFields(query: ValidQuery): Array<{ field: FieldRef; form: 'value' | 'json' }> {
  const out: Array<{ field: FieldRef; form: 'value' | 'json' }> = [];
  for (const f of query.filters) if (f.field.kind === 'data') out.push({ field: f.field, form: 'value' });
  if (query.sortField.kind === 'data') out.push({ field: query.sortField, form: 'value' });
  if (query.groupBy?.kind === 'data') out.push({ field: query.groupBy, form: 'json' });
  return out;
}
