import type { SocketState } from '../../src/socket/socket-events.js';

/**
 * What a widget says about its connection, from the socket's lifecycle state: nothing while it is
 * running, so whatever the widget shows is live; otherwise a word the viewer can read next to the
 * (then stale) numbers.
 */
export function connectionNote(state: SocketState): string {
  switch (state) {
    case 'running':
    case 'stopped':
      return '';
    case 'starting':
      return 'connecting…';
    case 'paused':
      return 'paused';
    case 'failed':
      return 'offline';
    default:
      return 'reconnecting…';
  }
}
