/**
 * `vidget/define`, and the entry of the script-tag bundle `dist/vidget.js`: registers
 * `<vidget-player>`, the built-in widgets' loaders and `window.vidget`. The only module with side
 * effects; everything of `vidget` is re-exported.
 */
import { css, html, nothing } from 'lit';
import { VidgetWidget } from './host/vidget-widget.js';
import { widgets } from './host/widget-registry.js';
import { defineWidget } from './index.js';
import { VidgetPlayer } from './player/vidget-player.js';

export * from './index.js';

if (!customElements.get('vidget-player')) customElements.define('vidget-player', VidgetPlayer);

// Built-in widgets load on demand: the core carries only these loaders.
const builtIns: Record<string, () => Promise<unknown>> = {
  poll: () => import('../widgets/poll/poll.js'),
  viewers: () => import('../widgets/viewers/viewers.js'),
  hotspot: () => import('../widgets/hotspot/hotspot.js'),
  chapters: () => import('../widgets/chapters/chapters.js'),
  reactions: () => import('../widgets/reactions/reactions.js'),
  chat: () => import('../widgets/chat/chat.js'),
  quiz: () => import('../widgets/quiz/quiz.js'),
  feed: () => import('../widgets/feed/feed.js'),
};
for (const [type, load] of Object.entries(builtIns)) if (!widgets.has(type)) widgets.registerLoader(type, load);

/** What a plain script tag sees: `window.vidget`. */
export const vidget = { defineWidget, VidgetWidget, VidgetPlayer, widgets, html, css, nothing };
(globalThis as { vidget?: typeof vidget }).vidget ??= vidget;
