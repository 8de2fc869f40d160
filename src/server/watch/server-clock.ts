/** The server's clock for watch together (ms): monotonic within a process, close to wall time. */
export function serverNow(): number {
  return performance.timeOrigin + performance.now();
}
