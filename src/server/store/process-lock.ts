import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** Whether a process with this pid is running (signal 0 only checks). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `file` for this process: a lock file holding its pid. A second process that finds a
 * running owner is refused; a lock left by a process that died (a crash, SIGKILL) is taken over.
 * Returns the release function.
 */
export function lockForProcess(file: string, what: string): () => void {
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner === process.pid) return () => {}; // this process holds it already (a store reopened)
      if (Number.isInteger(owner) && owner > 0 && running(owner)) {
        throw new Error(
          `${what} is in use by another process (pid ${owner}; lock file ${file}). SQLite serves one process: to run several server processes, set DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)`,
          { cause: error },
        );
      }
      try {
        unlinkSync(file); // its owner died: take it over
      } catch {
        // another process took it over first; try again
      }
    }
  }
  throw new Error(`could not lock ${file}`);
}
