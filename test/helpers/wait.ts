/**
 * Waits until `condition()` holds, checking every few milliseconds (for state that has no event
 * of its own, such as a queue length or a server's connection count). Fails after `ms`.
 */
export async function until(condition: () => boolean, what = 'condition', ms = 8_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sets `document.visibilityState` and fires `visibilitychange`, as switching tabs does. */
export function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}
