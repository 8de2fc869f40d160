import { html, nothing } from 'lit';
import type { Json } from '../../src/protocol/record.js';
import { displayName } from './display-name.js';

/**
 * A sender's name as a widget shows it (see `displayName`), marked ✓ when the server verified it
 * from a token: a typed name can be anything, a verified one cannot be borrowed.
 */
export const senderName = (username: string | null, data: Json | undefined, clientId: string) =>
  html`${displayName(username, data, clientId)}${username !== null ? html`<span class="verified" role="img" aria-label="(verified)" title="Verified by the site">✓</span>` : nothing}`;
