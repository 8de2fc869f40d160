import type { FieldRef, FilterOperator, FilterScalar, ValidFilter, ValidQuery } from '../../protocol/index.js';

/**
 * Bound values of one PostgreSQL statement: `add` returns the placeholder (`$n`) to write in
 * the text. Values are always bound; only `data` paths and room ids (checked) are inlined.
 */
export class PgParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** A value as a `jsonb` parameter (so `1`, `"1"` and `true` stay apart, as in JSON). */
  json(value: FilterScalar): string {
    return `${this.add(JSON.stringify(value))}::jsonb`;
  }
}

/**
 * The expression of a field. `data.*` paths are inlined as text-array literals (never values)
 * so an expression index on the same text can serve the query; `validateQuery` has already
 * limited every segment to `[A-Za-z0-9_]`, so the literal cannot break out of its quotes.
 * Text columns compare and sort bytewise (`COLLATE "C"`), as SQLite does.
 */
export function pgField(field: FieldRef): string {
  if (field.kind === 'data') return `(data #> '{${field.path.join(',')}}')`;
  return field.name === 'client_id' || field.name === 'username' ? `(${field.name} COLLATE "C")` : field.name;
}

/** The `room = N` term; N is an id the store assigned (inlined so partial auto-indexes match). */
export function pgRoom(roomId: number): string {
  if (!Number.isSafeInteger(roomId)) throw new Error(`bad room id ${roomId}`);
  return `room = ${roomId}`;
}

/** Equality with null or a boolean: null matches a JSON null and a missing field. */
function pgExact(field: FieldRef, value: null | boolean): string {
  if (field.kind === 'column') return '(username IS NULL)'; // only username can be compared with null
  const x = pgField(field);
  return value === null ? `(${x} IS NULL OR ${x} = 'null'::jsonb)` : `(${x} = '${value}'::jsonb)`;
}

/**
 * A range on a `data` field: only values of the same JSON type match (a number is never
 * greater than a string), as in SQLite. jsonb orders types String < Number < Boolean, so a range
 * above a number is bounded below `false` and needs no type check, which keeps it to the index.
 */
function pgDataRange(x: string, operator: FilterOperator, value: string | number, params: PgParams): string {
  const bound = `${x} ${operator} ${params.json(value)}`;
  if (typeof value === 'number' && (operator === '>' || operator === '>=')) return `(${bound} AND ${x} < 'false'::jsonb)`;
  return `(${bound} AND jsonb_typeof(${x}) = '${typeof value === 'number' ? 'number' : 'string'}')`;
}

function pgFilter(filter: ValidFilter, params: PgParams): string {
  const { field, operator, value } = filter;
  const x = pgField(field);
  const scalar = (v: FilterScalar) => (field.kind === 'data' ? params.json(v) : params.add(v));
  switch (operator) {
    case 'exists': {
      const present = field.kind === 'data' ? `${x} IS NOT NULL` : field.name === 'username' ? 'username IS NOT NULL' : 'true';
      return value === false ? `NOT (${present})` : present;
    }
    case 'in': {
      const values = value as FilterScalar[];
      const plain = values.filter((v) => typeof v === 'string' || typeof v === 'number');
      const any = plain.length > 0 ? [`${x} IN (${plain.map(scalar).join(', ')})`] : [];
      for (const v of values) if (v === null || typeof v === 'boolean') any.push(pgExact(field, v));
      return `(${any.join(' OR ')})`;
    }
    case 'contains':
      return field.kind === 'data' ? `strpos(data #>> '{${field.path.join(',')}}', ${params.add(value)}) > 0` : `strpos(${field.name}, ${params.add(value)}) > 0`;
    case '=':
      if (value === null || typeof value === 'boolean') return pgExact(field, value);
      return `${x} = ${scalar(value as string | number)}`;
    case '!=':
      // Negated, so records without the field match, as "not equal" reads.
      if (value === null || typeof value === 'boolean') return `NOT ${pgExact(field, value)}`;
      return `${x} IS DISTINCT FROM ${scalar(value as string | number)}`;
    default:
      if (field.kind === 'data') return pgDataRange(x, operator, value as string | number, params);
      return `${x} ${operator} ${params.add(value)}`;
  }
}

/** The WHERE clause of a query over one room. */
export function pgWhere(roomId: number, query: ValidQuery, params: PgParams): string {
  const clauses = [pgRoom(roomId)];
  // Each client's newest record; served by the (room, client_id, id) index.
  if (query.latestPerClient) clauses.push(`id IN (SELECT max(id) FROM records WHERE ${pgRoom(roomId)} GROUP BY client_id)`);
  clauses.push(...query.filters.map((f) => pgFilter(f, params)));
  return clauses.join(' AND ');
}

/** Whether a field can be missing: `data` paths and `username`. */
const nullable = (field: FieldRef): boolean => field.kind === 'data' || field.name === 'username';

/**
 * The direction of a sort on a field: missing values first ascending, last descending (as
 * SQLite). Said only where a value can be missing: the planner matches an index's order
 * literally, and `created DESC NULLS LAST` would not read `(room, created)` backwards.
 */
function pgDirection(field: FieldRef, desc: boolean): string {
  if (!nullable(field)) return desc ? 'DESC' : 'ASC';
  return desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST';
}

/** ORDER BY for a query; ties break on id. */
export function pgOrder(query: ValidQuery): string {
  const desc = query.sortOrder === 'desc';
  const x = pgField(query.sortField);
  if (x === 'id') return `id ${desc ? 'DESC' : 'ASC'}`;
  return `${x} ${pgDirection(query.sortField, desc)}, id ${desc ? 'DESC' : 'ASC'}`;
}

/** A `groupBy`: the GROUP BY key and the group's value as JSON text. */
export function pgGroup(field: FieldRef): { key: string; value: string } {
  if (field.kind === 'data') return { key: pgField(field), value: `${pgField(field)}::text` };
  return { key: field.name, value: `to_jsonb(${field.name})::text` };
}

/** One stretch of a keyset page: it adds its terms and placeholders to the statement's params. */
export type PgSegment = (params: PgParams) => { where: string; order: string };

/**
 * Where a keyset page (`after`) continues: segments read in turn until the page is full, as in
 * the SQLite store (see `pageSegments` there): values, then the missing ones, or the reverse.
 * `key` is the `after` record's sort key: a column's value, or for a `data` field its jsonb as
 * text (`null` when the field is missing).
 */
export function pgPageSegments(query: ValidQuery, key: string | number | null, afterId: number): PgSegment[] {
  const desc = query.sortOrder === 'desc';
  const [lt, dir] = desc ? ['<', 'DESC'] : ['>', 'ASC'];
  const field = query.sortField;
  const x = pgField(field);
  if (x === 'id') return [(p) => ({ where: `id ${lt} ${p.add(afterId)}`, order: `id ${dir}` })];
  const byKey = `${x} ${pgDirection(field, desc)}, id ${dir}`;
  const cast = field.kind === 'data' ? '::jsonb' : '';
  if (key !== null) {
    const values: PgSegment = (p) => {
      const k = `${p.add(key)}${cast}`;
      return { where: `${x} ${lt}= ${k} AND (${x} ${lt} ${k} OR id ${lt} ${p.add(afterId)})`, order: byKey };
    };
    return desc && nullable(field) ? [values, () => ({ where: `${x} IS NULL`, order: `id ${dir}` })] : [values];
  }
  const nulls: PgSegment = (p) => ({ where: `${x} IS NULL AND id ${lt} ${p.add(afterId)}`, order: `id ${dir}` });
  return desc ? [nulls] : [nulls, () => ({ where: `${x} IS NOT NULL`, order: byKey })];
}

/** The sort key of a field as {@link pgPageSegments} wants it. */
export function pgKey(field: FieldRef): string {
  return field.kind === 'data' ? `${pgField(field)}::text` : pgField(field);
}
