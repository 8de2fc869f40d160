import type pg from 'pg';

/**
 * The PostgreSQL schema as numbered steps, recorded in `vidget_migrations`: a database made by
 * an older version is brought up to date at start, each step in its own transaction.
 *
 * Record ids: `rooms.seq` is the room's one id sequence (records and ephemeral messages take ids
 * from it, so an id is never handed out twice); `rooms.last_record` is the id of the room's newest
 * stored record. `append_records` takes both under the room row's lock, so the appends of one room
 * commit one after another, in id order, whichever node runs them (see src/server/README.md).
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE rooms (
     room bigserial PRIMARY KEY,
     name text COLLATE "C" NOT NULL UNIQUE,
     epoch text NOT NULL,
     seq bigint NOT NULL DEFAULT 0,
     last_record bigint NOT NULL DEFAULT 0,
     records bigint NOT NULL DEFAULT 0,
     bytes bigint NOT NULL DEFAULT 0
   );
   CREATE TABLE records (
     room bigint NOT NULL,
     id bigint NOT NULL,
     client_id text NOT NULL,
     cid text NOT NULL,
     created bigint NOT NULL,
     username text,
     user_id text,
     data jsonb NOT NULL,
     bytes integer NOT NULL,
     PRIMARY KEY (room, id)
   );
   CREATE UNIQUE INDEX records_cid ON records (room, client_id, cid);
   CREATE INDEX records_created ON records (room, created);
   CREATE INDEX records_client ON records (room, client_id, id);
   CREATE INDEX records_user ON records (user_id) WHERE user_id IS NOT NULL;
   CREATE INDEX records_created_at ON records (created);
   CREATE FUNCTION append_records(p_room bigint, p_client text[], p_cid text[], p_created bigint[], p_username text[], p_user text[], p_data text[])
   RETURNS TABLE (o_pos int, o_id bigint, o_stored boolean, o_prev bigint, o_existing text)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     v_seq bigint;
     v_last bigint;
   BEGIN
     -- The room row's lock orders this room's appends across every node until commit.
     SELECT r.seq, r.last_record INTO v_seq, v_last FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'no room %', p_room; END IF;
     RETURN QUERY
     WITH input AS (
       SELECT i AS pos, v_seq + i AS id, p_client[i] AS client_id, p_cid[i] AS cid, p_created[i] AS created,
              p_username[i] AS username, p_user[i] AS user_id, p_data[i] AS data
       FROM generate_subscripts(p_cid, 1) AS i
     ), ins AS (
       INSERT INTO records AS r (room, id, client_id, cid, created, username, user_id, data, bytes)
       SELECT p_room, input.id, input.client_id, input.cid, input.created, input.username, input.user_id, input.data::jsonb, octet_length(input.data)
       FROM input ORDER BY input.pos
       ON CONFLICT (room, client_id, cid) DO NOTHING
       RETURNING r.id, r.bytes
     ), counted AS (
       UPDATE rooms AS u SET seq = v_seq + cardinality(p_cid),
         last_record = greatest(u.last_record, coalesce((SELECT max(ins.id) FROM ins), 0)),
         records = u.records + (SELECT count(*) FROM ins),
         bytes = u.bytes + (SELECT coalesce(sum(ins.bytes), 0) FROM ins)
       WHERE u.room = p_room
       RETURNING 1
     )
     SELECT input.pos, input.id, EXISTS (SELECT 1 FROM ins WHERE ins.id = input.id), v_last,
       (SELECT json_build_object('id', e.id, 'client_id', e.client_id, 'created', e.created, 'username', e.username, 'data', e.data)::text
          FROM records e WHERE e.room = p_room AND e.client_id = input.client_id AND e.cid = input.cid)
     FROM input
     ORDER BY input.pos;
   END
   $fn$;`,
  // 2: the room's quota checked under its row lock, so several nodes cannot overshoot it together.
  `DROP FUNCTION append_records(bigint, text[], text[], bigint[], text[], text[], text[]);
   CREATE FUNCTION append_records(p_room bigint, p_client text[], p_cid text[], p_created bigint[], p_username text[], p_user text[], p_data text[],
                                  p_max_records bigint, p_max_bytes bigint)
   RETURNS TABLE (o_pos int, o_id bigint, o_stored boolean, o_prev bigint, o_existing text, o_over boolean)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     v_seq bigint;
     v_last bigint;
     v_records bigint;
     v_bytes bigint;
   BEGIN
     -- The room row's lock orders this room's appends across every node until commit.
     SELECT r.seq, r.last_record, r.records, r.bytes INTO v_seq, v_last, v_records, v_bytes FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'no room %', p_room; END IF;
     RETURN QUERY
     WITH input AS (
       SELECT i AS pos, v_seq + i AS id, p_client[i] AS client_id, p_cid[i] AS cid, p_created[i] AS created,
              p_username[i] AS username, p_user[i] AS user_id, p_data[i] AS data,
              -- What the room would hold with this record and every one before it in the batch.
              v_records + i AS upto_records, v_bytes + sum(octet_length(p_data[i])) OVER (ORDER BY i) AS upto_bytes
       FROM generate_subscripts(p_cid, 1) AS i
     ), fitting AS (
       SELECT * FROM input WHERE input.upto_records <= p_max_records AND input.upto_bytes <= p_max_bytes
     ), ins AS (
       INSERT INTO records AS r (room, id, client_id, cid, created, username, user_id, data, bytes)
       SELECT p_room, fitting.id, fitting.client_id, fitting.cid, fitting.created, fitting.username, fitting.user_id, fitting.data::jsonb, octet_length(fitting.data)
       FROM fitting ORDER BY fitting.pos
       ON CONFLICT (room, client_id, cid) DO NOTHING
       RETURNING r.id, r.bytes
     ), counted AS (
       UPDATE rooms AS u SET seq = v_seq + cardinality(p_cid),
         last_record = greatest(u.last_record, coalesce((SELECT max(ins.id) FROM ins), 0)),
         records = u.records + (SELECT count(*) FROM ins),
         bytes = u.bytes + (SELECT coalesce(sum(ins.bytes), 0) FROM ins)
       WHERE u.room = p_room
       RETURNING 1
     )
     SELECT input.pos, input.id, EXISTS (SELECT 1 FROM ins WHERE ins.id = input.id), v_last,
       (SELECT json_build_object('id', e.id, 'client_id', e.client_id, 'created', e.created, 'username', e.username, 'data', e.data)::text
          FROM records e WHERE e.room = p_room AND e.client_id = input.client_id AND e.cid = input.cid),
       NOT (input.upto_records <= p_max_records AND input.upto_bytes <= p_max_bytes)
     FROM input
     ORDER BY input.pos;
   END
   $fn$;`,
  // 3: the stored copy of a record is looked up only for the records not stored (a repeat), not for
  // every record of the batch; stored ones are found by a join, not a scan of the inserted rows each.
  `CREATE OR REPLACE FUNCTION append_records(p_room bigint, p_client text[], p_cid text[], p_created bigint[], p_username text[], p_user text[], p_data text[],
                                  p_max_records bigint, p_max_bytes bigint)
   RETURNS TABLE (o_pos int, o_id bigint, o_stored boolean, o_prev bigint, o_existing text, o_over boolean)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     v_seq bigint;
     v_last bigint;
     v_records bigint;
     v_bytes bigint;
   BEGIN
     -- The room row's lock orders this room's appends across every node until commit.
     SELECT r.seq, r.last_record, r.records, r.bytes INTO v_seq, v_last, v_records, v_bytes FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'no room %', p_room; END IF;
     RETURN QUERY
     WITH input AS (
       SELECT i AS pos, v_seq + i AS id, p_client[i] AS client_id, p_cid[i] AS cid, p_created[i] AS created,
              p_username[i] AS username, p_user[i] AS user_id, p_data[i] AS data,
              -- What the room would hold with this record and every one before it in the batch.
              v_records + i AS upto_records, v_bytes + sum(octet_length(p_data[i])) OVER (ORDER BY i) AS upto_bytes
       FROM generate_subscripts(p_cid, 1) AS i
     ), fitting AS (
       SELECT * FROM input WHERE input.upto_records <= p_max_records AND input.upto_bytes <= p_max_bytes
     ), ins AS (
       INSERT INTO records AS r (room, id, client_id, cid, created, username, user_id, data, bytes)
       SELECT p_room, fitting.id, fitting.client_id, fitting.cid, fitting.created, fitting.username, fitting.user_id, fitting.data::jsonb, octet_length(fitting.data)
       FROM fitting ORDER BY fitting.pos
       ON CONFLICT (room, client_id, cid) DO NOTHING
       RETURNING r.id, r.bytes
     ), counted AS (
       UPDATE rooms AS u SET seq = v_seq + cardinality(p_cid),
         last_record = greatest(u.last_record, coalesce((SELECT max(ins.id) FROM ins), 0)),
         records = u.records + (SELECT count(*) FROM ins),
         bytes = u.bytes + (SELECT coalesce(sum(ins.bytes), 0) FROM ins)
       WHERE u.room = p_room
       RETURNING 1
     )
     SELECT input.pos, input.id, ins.id IS NOT NULL, v_last,
       CASE WHEN ins.id IS NULL THEN
         (SELECT json_build_object('id', e.id, 'client_id', e.client_id, 'created', e.created, 'username', e.username, 'data', e.data)::text
            FROM records e WHERE e.room = p_room AND e.client_id = input.client_id AND e.cid = input.cid)
       END,
       NOT (input.upto_records <= p_max_records AND input.upto_bytes <= p_max_bytes)
     FROM input LEFT JOIN ins ON ins.id = input.id
     ORDER BY input.pos;
   END
   $fn$;`,
];

/**
 * Creates the schema if needed and runs the missing migrations. Nodes started at the same moment
 * on a fresh database take turns: the whole check runs under an advisory lock of the schema.
 */
export async function migrate(client: pg.ClientBase, schema: string): Promise<void> {
  const ident = quoteIdent(schema);
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [`vidget:${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident}`);
    await client.query(`SET search_path TO ${ident}`);
    await client.query('CREATE TABLE IF NOT EXISTS vidget_migrations (version integer PRIMARY KEY, applied bigint NOT NULL)');
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM vidget_migrations');
    for (let v = rows[0]?.v ?? 0; v < MIGRATIONS.length; v++) {
      await client.query('BEGIN');
      try {
        await client.query(MIGRATIONS[v]!);
        await client.query('INSERT INTO vidget_migrations (version, applied) VALUES ($1, $2)', [v + 1, Date.now()]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`vidget:${schema}`]);
  }
}

/** The schema version this code brings a database to. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A schema name as a quoted identifier. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`bad PostgreSQL schema name ${JSON.stringify(name)}: letters, digits and _ only`);
  return `"${name}"`;
}
