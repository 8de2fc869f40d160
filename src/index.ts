/**
 * Vidget for the browser, without side effects: importing it defines nothing. `vidget/define`
 * (and the script-tag bundle `dist/vidget.js`) registers `<vidget-player>`, the built-in widgets
 * and `window.vidget`.
 */
import { css, html, nothing } from 'lit';
import { widgets, type WidgetDefinition } from './host/widget-registry.js';

export * from './socket/index.js';
// Not the query validator: the socket loads it on demand, and `vidget/protocol` exports it.
export { ErrorCode, CloseCode, VidgetError } from './protocol/errors.js';
export { parseInterval } from './protocol/names.js';
export type { Json, VidgetRecord, SearchQuery, SearchFilter, SearchGroup, FilterOperator } from './protocol/index.js';
export { PlayerApi, MEDIA_EVENTS } from './player/player-api.js';
export type { MediaEventName, PlayerConnection, PlayerEventName, PlayerListener, PlatformEventName, RuntimeEventName } from './player/player-api.js';
// Types only: the project connection and the analytics subscription load on demand (playerApi.connectProject, playerApi.analytics).
export type { AnalyticsSnapshot, Video, VideoFields, VideoStatus } from './protocol/platform.js';
export type { AnalyticsSubscription, AnalyticsSubscriptionOptions, SnapshotDetail } from './platform/analytics-subscription.js';
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
export type { WatchSession, WatchTogetherOptions } from './watch/watch-session.js';
export type { Invitation } from './watch/invitation.js';
export type { Participant } from './watch/participant.js';
export type { ParticipantEvent, WatchErrorEvent, WatchState, WatchStateEvent } from './watch/watch-events.js';
/** Loads and defines `<vidget-watch-together>` (the watch-together tiles and controls; a lazy chunk). */
export const loadWatchTogetherWidget = (): Promise<unknown> => import('../widgets/watch-together/watch-together.js');
