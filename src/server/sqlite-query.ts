import type { FieldRef, FilterScalar, ValidFilter, ValidQuery } from '../protocol/index.js';

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

/** JSON booleans come out of json_extract as 1/0, so compare against those. */
function bind(value: FilterScalar): string | number | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
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
      const nonNull = values.filter((v) => v !== null);
      params.push(...nonNull.map(bind));
      const list = nonNull.length > 0 ? `${x} IN (${nonNull.map(() => '?').join(', ')})` : '0';
      return values.includes(null) ? `(${list} OR ${x} IS NULL)` : list;
    }
    case 'contains':
      params.push(value as string);
      return `instr(${x}, ?) > 0`;
    case '=':
      params.push(bind(value as FilterScalar));
      return `${x} IS ?`;
    case '!=':
      // IS NOT, so records without the field match, as "not equal" reads.
      params.push(bind(value as FilterScalar));
      return `${x} IS NOT ?`;
    default:
      params.push(bind(value as FilterScalar));
      // SQLite orders numbers before all text: bound a numeric range below '' so text values
      // never satisfy a numeric comparison (and the bound still lets an index serve the range).
      return typeof value === 'number' ? `(${x} ${operator} ? AND ${x} < '')` : `${x} ${operator} ?`;
  }
}

/** Compiles the filters of a query into a WHERE clause for one room (`room = ?` comes first). */
export function whereSql(roomId: number, query: ValidQuery): SqlFragment {
  const params: SqlFragment['params'] = [roomId];
  const clauses = ['room = ?', ...query.filters.map((f) => filterSql(f, params))];
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
