import { randomBytes } from 'node:crypto';
import { VidgetError, parseClientFrame, type ErrorCode, type Json, type PublishFrame, type VidgetRecord } from '../../protocol/index.js';
import type { Publisher } from './room.js';

/**
 * The site's backend publishing through the server API: a {@link Publisher} whose ack settles a
 * Promise. Its records carry `client_id: "server"` and the username the backend gives.
 */
export class ServerPublisher implements Publisher {
  readonly clientId = 'server';
  readonly identity = { userId: null };
  /** The publish, validated like a client's frame. */
  readonly frame: PublishFrame;
  /** Resolves with the stored (or relayed) record, rejects with the room's error. */
  readonly result: Promise<VidgetRecord>;
  private settle!: { resolve: (record: VidgetRecord) => void; reject: (error: VidgetError) => void };

  constructor(
    readonly username: string | null,
    data: Json,
    persist: boolean,
  ) {
    this.frame = parseClientFrame(JSON.stringify({ type: 'pub', cid: randomBytes(12).toString('base64url'), data, persist })) as PublishFrame;
    this.result = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  send(frame: unknown): void {
    const f = typeof frame === 'string' ? JSON.parse(frame) : frame;
    if ((f as { type?: string }).type === 'ack') this.settle.resolve((f as { record: VidgetRecord }).record);
  }

  sendAck(_id: number, text: string): void {
    this.settle.resolve((JSON.parse(text) as { record: VidgetRecord }).record);
  }

  sendError(code: ErrorCode, message: string): void {
    this.settle.reject(new VidgetError(code, message));
  }
}
