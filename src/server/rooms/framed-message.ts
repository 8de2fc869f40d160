import type { Socket } from 'node:net';
import * as ws from 'ws';
import type { WebSocket } from 'ws';

// ws exports its Sender (the RFC 6455 framer) at run time; @types/ws does not declare it.
const { Sender } = ws as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
};

/**
 * A text message framed once, to be written to many sockets. ws frames every `send` on its own
 * (a header allocation and two writes per socket); a broadcast instead builds header + payload
 * once and writes the same buffer to each socket.
 */
export class FramedMessage {
  /** The JSON text, for the fallback path. */
  readonly payload: Buffer;
  /** RFC 6455 frame: FIN + text opcode, unmasked (server to client), then the payload. */
  readonly frame: Buffer;

  constructor(payload: Buffer) {
    this.payload = payload;
    this.frame = Buffer.concat(Sender.frame(payload, { fin: true, opcode: 1, mask: false, readOnly: true, rsv1: false }));
  }

  /**
   * Writes the frame straight to the socket when ws's sender is idle with nothing queued (always,
   * with permessage-deflate off), so ordering with ws's own sends is kept; otherwise `ws.send`.
   */
  writeTo(ws: WebSocket): void {
    if (canWriteFramed(ws)) (ws as unknown as WsInternals)._socket.write(this.frame);
    else ws.send(this.payload, { binary: false });
  }
}

interface WsInternals {
  _socket: Socket;
  _sender: { _state: number; _queue: unknown[] };
}

/** Whether `FramedMessage.writeTo` can take its fast path on this socket (exported for a test that pins the ws internals it relies on). */
export function canWriteFramed(ws: WebSocket): boolean {
  const { _socket: socket, _sender: sender } = ws as unknown as Partial<WsInternals>;
  return socket !== undefined && sender !== undefined && sender._state === 0 && Array.isArray(sender._queue) && sender._queue.length === 0 && !socket.destroyed;
}
