import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL tests use: `DATABASE_URL`, else this machine's local one. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The Redis tests use: `REDIS_URL`, else this machine's local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<string | undefined> | undefined;

/** Why PostgreSQL tests cannot run here (printed as the skip reason), or undefined when they can. */
export function postgresMissing(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL is not reachable at ${DATABASE_URL} (${(error as Error).message}); set DATABASE_URL to run these tests`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** A fresh schema name for one test run; {@link dropSchema} removes it. */
export const freshSchema = (): string => `vidget_test_${randomBytes(6).toString('hex')}`;

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
