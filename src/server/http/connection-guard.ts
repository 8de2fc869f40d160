import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientAddress } from './client-address.js';
import { limitKey } from './client-address.js';

/** Timeouts that keep half-sent or never-read HTTP requests from holding sockets (slowloris). */
export interface HttpTimeouts {
  /** All request headers must arrive within this. Default 10,000 ms. */
  headersMs: number;
  /** The whole request (headers and body) must arrive within this. Default 30,000 ms. */
  requestMs: number;
  /** A socket with no traffic either way for this long is closed (a client that never reads its answer). Default 60,000 ms. */
  idleMs: number;
}

/** The soft limit on open files of this process (Linux), or undefined where it can't be read. */
function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return line ? Number(line[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** File descriptors kept back from sockets: the database, its WAL, workers, static files. */
const FD_RESERVE = 128;

/**
 * Guards the HTTP server's sockets. Each TCP peer may hold `maxPerAddress` sockets that are not
 * (yet) WebSockets: the per-IP WebSocket cap counts only accepted sockets, so half-sent requests
 * were uncapped. Trusted proxies are exempt (they pool many clients). The server as a whole
 * accepts no more sockets than the open-file limit allows, so running out of descriptors
 * (which breaks file reads and accepts) cannot be reached from outside.
 */
export class ConnectionGuard {
  private readonly perAddress = new Map<string, number>();
  private readonly counted = new WeakMap<Socket, string>();

  constructor(
    private readonly maxPerAddress: number,
    private readonly addresses: ClientAddress,
  ) {}

  /** Sets the timeouts and the socket cap on `http` and starts counting its sockets. */
  attach(http: Server, timeouts: HttpTimeouts): void {
    http.headersTimeout = timeouts.headersMs;
    http.requestTimeout = timeouts.requestMs;
    http.setTimeout(timeouts.idleMs, (socket) => socket.destroy());
    const files = openFileLimit();
    if (files !== undefined && files > FD_RESERVE * 2) http.maxConnections = files - FD_RESERVE;
    http.on('connection', (socket: Socket) => this.onConnection(socket));
  }

  /** A socket became a WebSocket: the per-IP WebSocket cap governs it from now on. */
  upgraded(socket: Socket): void {
    this.release(socket);
  }

  /** Sockets currently counted for `address` (for tests). */
  pending(address: string): number {
    return this.perAddress.get(limitKey(address)) ?? 0;
  }

  private onConnection(socket: Socket): void {
    // A reset during the request line must not surface as an uncaught error (Node's own listener
    // is removed when a socket is upgraded).
    socket.on('error', noop);
    const address = socket.remoteAddress ?? 'unknown';
    if (this.addresses.isTrusted(address)) return;
    const key = limitKey(address);
    const count = (this.perAddress.get(key) ?? 0) + 1;
    if (count > this.maxPerAddress) {
      socket.destroy();
      return;
    }
    this.perAddress.set(key, count);
    this.counted.set(socket, key);
    socket.once('close', () => this.release(socket));
  }

  private release(socket: Socket): void {
    const key = this.counted.get(socket);
    if (key === undefined) return;
    this.counted.delete(socket);
    const left = (this.perAddress.get(key) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(key);
    else this.perAddress.set(key, left);
  }
}

function noop(): void {}
