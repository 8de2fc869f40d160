import { FramedMessage } from '../rooms/framed-message.js';
import { claimsPromotion } from '../trust/promotion.js';

interface Converted {
  record: string;
  promoted?: boolean;
  byChannel: Map<string, FramedMessage>;
}

/** A room frame's record JSON, read once per broadcast and shared by every Bayeux subscriber. */
const converted = new WeakMap<FramedMessage, Converted>();

function convert(frame: FramedMessage): Converted {
  let c = converted.get(frame);
  if (!c) {
    const text = frame.payload.toString('utf8');
    c = { record: text.slice(text.indexOf('"record":') + 9, -1), byChannel: new Map() };
    converted.set(frame, c);
  }
  return c;
}

/** Whether a record (as JSON) was promoted: only a token with `moderate` can publish `data.promoted: true`. */
export const isPromoted = (recordJson: string): boolean => claimsPromotion((JSON.parse(recordJson) as { data?: unknown }).data);

/** Whether the record of a room's `msg` frame was promoted (read once per frame). */
export function framePromoted(frame: FramedMessage): boolean {
  const c = convert(frame);
  return (c.promoted ??= isPromoted(c.record));
}

/** The Bayeux message array carrying `record` (JSON) on `channel`. */
export const bayeuxMessage = (channel: string, record: string): FramedMessage => new FramedMessage(Buffer.from(`[{"channel":${JSON.stringify(channel)},"data":${record}}]`));

/** The Bayeux message carrying the record of a room's `msg` frame on `channel`: made once per frame and channel, whoever it goes to. */
export function bayeuxMessageOf(frame: FramedMessage, channel: string): FramedMessage {
  const c = convert(frame);
  let message = c.byChannel.get(channel);
  if (!message) c.byChannel.set(channel, (message = bayeuxMessage(channel, c.record)));
  return message;
}
