import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Bytes of an RFC 6455 header for a server frame (unmasked) carrying `length` payload bytes. */
const headerBytes = (length: number): number => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/**
 * A text message framed once, to be written to many sockets. ws frames every `send` on its own
 * (a header allocation and two writes per socket); a broadcast instead builds header + payload
 * once and writes the same buffer to each socket.
 */
export class FramedMessage {
  /** RFC 6455 frame: FIN + text opcode, unmasked (server to client), then the payload. */
  readonly frame: Buffer;
  private readonly header: number;

  /** Frames JSON text (a string, encoded straight into the frame: one allocation, one copy). */
  constructor(text: string | Buffer) {
    const length = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    this.header = headerBytes(length);
    this.frame = Buffer.allocUnsafe(this.header + length);
    this.frame[0] = 0x81; // FIN, text
    if (length < 126) this.frame[1] = length;
    else if (length < 65_536) {
      this.frame[1] = 126;
      this.frame.writeUInt16BE(length, 2);
    } else {
      this.frame[1] = 127;
      this.frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      this.frame.writeUInt32BE(length >>> 0, 6);
    }
    if (typeof text === 'string') this.frame.write(text, this.header);
    else text.copy(this.frame, this.header);
  }

  /** The JSON text, for the fallback path (a view into the frame). */
  get payload(): Buffer {
    return this.frame.subarray(this.header);
  }

  /**
   * Writes the frame straight to the socket when ws's sender is idle with nothing queued (always,
   * with permessage-deflate off), so ordering with ws's own sends is kept; otherwise `ws.send`.
   */
  writeTo(ws: WebSocket): void {
    if (!canWriteFramed(ws)) return ws.send(this.payload, { binary: false });
    const socket = (ws as unknown as WsInternals)._socket;
    corkForThisTick(socket);
    socket.write(this.frame);
  }
}

/** Sockets corked in this tick, uncorked together once it ends. */
let corked: Socket[] = [];

function uncorkAll(): void {
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}

/**
 * Frames written to one socket in one tick (several records from one incoming TCP chunk, or one
 * bus batch) leave in one writev when the tick ends, instead of one write each: the same bytes
 * in the same order, with fewer system calls at saturation and no added delay.
 */
function corkForThisTick(socket: Socket): void {
  if (socket.writableCorked > 0) return;
  socket.cork();
  if (corked.push(socket) === 1) process.nextTick(uncorkAll);
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
