/** The widget socket: what `playerApi.webSocket(options)` returns. */
export { WidgetSocket } from './widget-socket.js';
export type { SearchCall, SearchResponse, WidgetSocketOptions } from './widget-socket.js';
export { CountEvent, DeleteEvent, RecordEvent, SocketCloseEvent, SocketErrorEvent, StateChangeEvent, SyncedEvent } from './socket-events.js';
export type { SocketState, WidgetSocketEventMap } from './socket-events.js';
