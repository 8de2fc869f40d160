/**
 * Vidget for the browser. As a module script (`dist/vidget.js`) or an npm import it defines
 * `<vidget-player>` and `window.vidget`; everything below is also a named export.
 */
import { css, html, nothing } from 'lit';
import { VidgetWidget } from './host/vidget-widget.js';
import { widgets, type WidgetDefinition } from './host/widget-registry.js';
import { VidgetPlayer } from './player/vidget-player.js';

export * from './socket/index.js';
// Not the query validator: the socket loads it on demand, and `vidget/protocol` exports it.
export { ErrorCode, CloseCode, VidgetError } from './protocol/errors.js';
export { parseInterval } from './protocol/names.js';
export type { Json, VidgetRecord, SearchQuery, SearchFilter, SearchGroup, FilterOperator } from './protocol/index.js';
export { PlayerApi, MEDIA_EVENTS } from './player/player-api.js';
export type { MediaEventName, PlayerConnection, PlayerEventName, PlayerListener, RuntimeEventName } from './player/player-api.js';
export { VidgetPlayer, PlayerErrorEvent } from './player/vidget-player.js';
export { VidgetWidget } from './host/vidget-widget.js';
export { WidgetRegistry, widgets, tagFor } from './host/widget-registry.js';
export type { WidgetClass, WidgetDefinition, WidgetFunction } from './host/widget-registry.js';
export { parseWidgetConfig } from './host/widget-config.js';
export type { ConfigError, NarrowMode, WidgetAction, WidgetEntry, WidgetPosition, WidgetTrigger } from './host/widget-config.js';
/** Lit's templates and styles, the same copy the player and VidgetWidget use, for widgets written in a page. */
export { css, html, nothing };
export type { WidgetApi } from './host/widget-api.js';

/** Defines a widget type: a `VidgetWidget` subclass or a function `(api, root, props) => cleanup?`. */
export function defineWidget(type: string, definition: WidgetDefinition): void {
  widgets.define(type, definition);
}

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
};
for (const [type, load] of Object.entries(builtIns)) if (!widgets.has(type)) widgets.registerLoader(type, load);

/** What a plain script tag sees: `window.vidget`. */
export const vidget = { defineWidget, VidgetWidget, VidgetPlayer, widgets, html, css, nothing };
(globalThis as { vidget?: typeof vidget }).vidget ??= vidget;
