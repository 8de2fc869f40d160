import type { ErrorCode, ServerFrame } from '../../protocol/index.js';
import type { FramedMessage } from '../rooms/framed-message.js';
import type { Publisher } from '../rooms/room.js';
import type { Identity } from '../trust/token-verifier.js';

/** How a Bayeux publish went: the record's id, or the room's refusal. */
export type PublishOutcome = { id: number } | { code: ErrorCode; message: string };

/**
 * One Bayeux publish on its way through a room's pipeline: the {@link Publisher} the room acks.
 * The username is the publishing message's token's, never anything in the message. The
 * publisher's own session hears the record as a subscriber, like every Faye client does.
 */
export class BayeuxPublisher implements Publisher {
  /** Settles when the room acks or refuses. */
  readonly outcome: Promise<PublishOutcome>;
  private settle!: (outcome: PublishOutcome) => void;

  constructor(
    readonly clientId: string,
    readonly identity: Identity,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
  }

  get username(): string | null {
    return this.identity.username;
  }

  /** A repeated publish is answered with an ack frame (an object). */
  send(frame: ServerFrame | FramedMessage | string): void {
    if (typeof frame === 'object' && 'type' in frame && frame.type === 'ack') this.settle({ id: frame.record.id });
  }

  sendAck(id: number): void {
    this.settle({ id });
  }

  sendError(code: ErrorCode, message: string): void {
    this.settle({ code, message });
  }
}
