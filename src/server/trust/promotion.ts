/**
 * Whether a record's data claims to be promoted (TwentyThree's promoted comments, the chat's
 * pinned message): `data.promoted === true`. Only an identity with the `moderate` permission in
 * the room may publish such data, over either protocol, so the Bayeux `/promoted` channels and
 * the chat can trust the flag of every stored and relayed record.
 */
export function claimsPromotion(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { promoted?: unknown }).promoted === true;
}
