import type { RoomName } from '../store/store.js';

/**
 * How the nodes of one deployment tell each other what happened in a room: records published,
 * records deleted, presence changed. At-most-once (Redis pub/sub): a node that may have missed
 * messages hears `onResync`, and fills what it missed from the store (see src/server/README.md).
 */
export interface Bus {
  /** This node's id, unique per process start; messages carry it so a node skips its own. */
  readonly nodeId: string;
  /**
   * Starts delivering the room's messages to `onMessage` (called once per message, in the order
   * the bus received them). Subscribing a room again replaces its handler. While the bus is cut
   * off it resolves at once with the room registered; the room goes live on the reconnect, which
   * is followed by `onResync`.
   */
  subscribe(room: RoomName, onMessage: (message: string) => void): Promise<void>;
  /** Stops delivering the room's messages. */
  unsubscribe(room: RoomName): Promise<void>;
  /**
   * Starts delivering the messages of every room of `project` that is not subscribed on this node
   * (wildcard subscribers: a room active only on other nodes). A subscribed room's messages
   * still go to its own handler, once.
   */
  watch(project: string, onMessage: (room: RoomName, message: string) => void): Promise<void>;
  /** Stops {@link watch}. */
  unwatch(project: string): Promise<void>;
  /** Sends a message to every node subscribed to the room (this one included). Never throws: lost when the bus is down. */
  publish(room: RoomName, message: string): void;
  /**
   * Called after the bus was cut off and is back: messages may have been lost meanwhile. Every
   * room is subscribed again before it is called, so a store read started here misses nothing.
   */
  onResync: () => void;
  /** Stops it; pending publishes are flushed first. */
  close(): Promise<void>;
}

/**
 * Connection counts per room across every node. Each node reports its own count per room; the
 * total sums the counts of nodes still alive (a node that stops heartbeating stops counting).
 */
export interface PresenceStore {
  /** Records this node's count of connections in a room (0 removes it). */
  set(room: RoomName, count: number): Promise<void>;
  /** The total over every live node. Rejects while the store is unreachable (keep the last total). */
  total(room: RoomName): Promise<number>;
  /** Called when a node joined or left the live set (a node that died counts no more). */
  onNodesChanged: () => void;
  /** Stops heartbeating and removes this node's counts. */
  close(): Promise<void>;
}
