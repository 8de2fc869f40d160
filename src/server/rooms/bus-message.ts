/** What one node tells the others about a room over the bus. */
export type BusMessage =
  | {
      kind: 'record';
      /** The sending node: it skips its own messages. */
      node: string;
      id: number;
      /** The id of the room's stored record before this one (stored records only). */
      prev: number;
      persisted: boolean;
      clientId: string;
      /** The record as JSON text, framed as it is (never parsed on the way). */
      json: string;
    }
  | { kind: 'deleted'; node: string; ids: number[] }
  | { kind: 'presence'; node: string };

/**
 * A message as text: a small JSON header, then for a record a newline and the record's JSON as the
 * publishing node made it, so a receiving node frames it without parsing it.
 */
export function encodeBusMessage(message: BusMessage): string {
  if (message.kind !== 'record') return JSON.stringify(message);
  // kind and node first, whatever the caller's order: see ownRecordPrefix.
  const { json, kind, node, ...rest } = message;
  return `${JSON.stringify({ kind, node, ...rest })}\n${json}`;
}

/**
 * How every record message of `node` starts: a node hears its own messages back from Redis (it
 * subscribes to the rooms it publishes to), and skips them by this prefix before parsing them.
 */
export function ownRecordPrefix(node: string): string {
  return `{"kind":"record","node":${JSON.stringify(node)},`;
}

/** The message, or undefined for text that is not one (another version, or not ours). */
export function parseBusMessage(text: string): BusMessage | undefined {
  const cut = text.indexOf('\n');
  try {
    const header = JSON.parse(cut < 0 ? text : text.slice(0, cut)) as BusMessage;
    if (header.kind === 'record') return cut < 0 ? undefined : { ...header, json: text.slice(cut + 1) };
    if (header.kind === 'deleted' && Array.isArray(header.ids)) return header;
    if (header.kind === 'presence') return header;
  } catch {
    // not a bus message
  }
  return undefined;
}
