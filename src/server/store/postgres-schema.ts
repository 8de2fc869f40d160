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
  // 4: group counts. A room's `counted` paths (e.g. 'option', 'a.b') have their values counted in
  // `group_counts`, kept under the room row's lock by appends and a delete trigger, so an unfiltered
  // groupBy on one reads a few rows instead of the room. A value is keyed by the md5 of its jsonb
  // text: jsonb prints equal values alike for the data the server stores (objects with sorted
  // keys; numbers as JSON.stringify wrote them, so never 1 and 1.0), and a key of any length fits
  // the index. '' is a record without the field (value NULL), apart from a JSON null.
  `ALTER TABLE rooms ADD COLUMN counted text[] NOT NULL DEFAULT '{}';
   CREATE TABLE group_counts (
     room bigint NOT NULL,
     path text NOT NULL,
     vkey text NOT NULL,
     value jsonb,
     count bigint NOT NULL,
     PRIMARY KEY (room, path, vkey)
   );
   -- Appends as migration 3 does (renamed, called from here), then counts what was stored. The
   -- room row is locked by then, until commit; its seq moved past the batch's ids.
   ALTER FUNCTION append_records(bigint, text[], text[], bigint[], text[], text[], text[], bigint, bigint) RENAME TO append_uncounted;
   CREATE FUNCTION append_records(p_room bigint, p_client text[], p_cid text[], p_created bigint[], p_username text[], p_user text[], p_data text[],
                                  p_max_records bigint, p_max_bytes bigint)
   RETURNS TABLE (o_pos int, o_id bigint, o_stored boolean, o_prev bigint, o_existing text, o_over boolean)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     v_seq bigint;
     v_counted text[];
   BEGIN
     RETURN QUERY SELECT * FROM append_uncounted(p_room, p_client, p_cid, p_created, p_username, p_user, p_data, p_max_records, p_max_bytes);
     SELECT r.seq - cardinality(p_cid), r.counted INTO v_seq, v_counted FROM rooms r WHERE r.room = p_room;
     -- The batch's ids are v_seq + 1 .. v_seq + n: the rows found there are the ones just stored.
     IF cardinality(v_counted) > 0 THEN
       INSERT INTO group_counts AS g (room, path, vkey, value, count)
       SELECT p_room, c.path, coalesce(md5(c.v::text), ''), c.v, count(*)
       FROM (SELECT f.path, r.data #> string_to_array(f.path, '.') AS v
             FROM records r CROSS JOIN unnest(v_counted) AS f(path)
             WHERE r.room = p_room AND r.id > v_seq AND r.id <= v_seq + cardinality(p_cid)) c
       GROUP BY c.path, c.v
       ON CONFLICT (room, path, vkey) DO UPDATE SET count = g.count + excluded.count;
     END IF;
   END
   $fn$;
   -- Starts counting a path of a room: its current counts, then every append and delete keeps
   -- them. Under the room row's lock (the room's appends wait for the scan). Refused, with
   -- nothing kept, past p_max groups: a field with a value per record gains nothing from it.
   CREATE FUNCTION count_groups(p_room bigint, p_path text, p_max integer) RETURNS integer
   LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
   DECLARE
     v_counted text[];
     v_groups integer;
   BEGIN
     SELECT r.counted INTO v_counted FROM rooms r WHERE r.room = p_room FOR UPDATE;
     IF NOT FOUND THEN RAISE EXCEPTION 'no room %', p_room; END IF;
     IF p_path = ANY (v_counted) THEN RETURN 0; END IF;
     INSERT INTO group_counts (room, path, vkey, value, count)
     SELECT p_room, p_path, coalesce(md5(s.v::text), ''), s.v, count(*)
     FROM (SELECT r.data #> string_to_array(p_path, '.') AS v FROM records r WHERE r.room = p_room) s
     GROUP BY s.v
     LIMIT p_max + 1;
     GET DIAGNOSTICS v_groups = ROW_COUNT;
     IF v_groups > p_max THEN RAISE EXCEPTION 'more than % groups', p_max; END IF;
     UPDATE rooms SET counted = array_append(counted, p_path) WHERE room = p_room;
     RETURN v_groups;
   END
   $fn$;
   CREATE FUNCTION uncount_groups(p_room bigint, p_path text) RETURNS void
   LANGUAGE sql SET search_path FROM CURRENT AS $fn$
     UPDATE rooms SET counted = array_remove(counted, p_path) WHERE room = p_room;
     DELETE FROM group_counts WHERE room = p_room AND path = p_path;
   $fn$;
   -- Every delete (moderation, a user's erasure, retention) takes its records off the counts.
   -- The rooms' rows are locked first, in order, as appends and count_groups take them: a
   -- count started meanwhile is then either seen here or has counted without these records.
   -- Its own search_path: a DELETE run by hand (psql, another schema current) works too.
   CREATE FUNCTION uncount_records() RETURNS trigger
   LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
   BEGIN
     PERFORM 1 FROM rooms r WHERE r.room IN (SELECT DISTINCT o.room FROM gone o) ORDER BY r.room FOR UPDATE;
     INSERT INTO group_counts AS g (room, path, vkey, value, count)
     SELECT c.room, c.path, coalesce(md5(c.v::text), ''), c.v, -count(*)
     FROM (SELECT o.room, f.path, o.data #> string_to_array(f.path, '.') AS v
           FROM gone o JOIN rooms r ON r.room = o.room CROSS JOIN unnest(r.counted) AS f(path)) c
     GROUP BY c.room, c.path, c.v
     ON CONFLICT (room, path, vkey) DO UPDATE SET count = g.count + excluded.count;
     DELETE FROM group_counts g WHERE g.room IN (SELECT DISTINCT o.room FROM gone o) AND g.count <= 0;
     RETURN NULL;
   END
   $fn$;
   CREATE TRIGGER records_uncount AFTER DELETE ON records REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION uncount_records();`,
  // 5: the appends of several rooms in one call and one transaction (one round trip and one commit
  // where there were as many as rooms). Call k's records are p_ends[k-1]+1 .. p_ends[k] of the
  // arrays. Rooms are locked in room order, as every other multi-room statement takes them.
  `CREATE FUNCTION append_many(p_rooms bigint[], p_ends integer[], p_client text[], p_cid text[], p_created bigint[], p_username text[], p_user text[], p_data text[],
                               p_max_records bigint[], p_max_bytes bigint[])
   RETURNS TABLE (o_call int, o_pos int, o_id bigint, o_stored boolean, o_prev bigint, o_existing text, o_over boolean)
   LANGUAGE plpgsql AS $fn$
   DECLARE
     k integer;
     v_from integer;
     v_to integer;
   BEGIN
     FOR k IN SELECT i FROM generate_subscripts(p_rooms, 1) AS i ORDER BY p_rooms[i], i LOOP
       v_from := CASE WHEN k = 1 THEN 1 ELSE p_ends[k - 1] + 1 END;
       v_to := p_ends[k];
       RETURN QUERY SELECT k, a.* FROM append_records(p_rooms[k], p_client[v_from:v_to], p_cid[v_from:v_to], p_created[v_from:v_to],
         p_username[v_from:v_to], p_user[v_from:v_to], p_data[v_from:v_to], p_max_records[k], p_max_bytes[k]) AS a;
     END LOOP;
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
