import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP load balancer for tests: each new connection goes to the next backend that
 * accepts it (a backend that refuses is skipped), bytes are piped both ways, and a backend that
 * dies takes its connections with it, as behind nginx or HAProxy.
 */
export class TcpBalancer {
  private readonly server: Server;
  private next = 0;
  private readonly sockets = new Set<Socket>();

  constructor(readonly backends: number[]) {
    this.server = createServer((client) => this.accept(client));
    this.server.on('error', () => {});
  }

  /** Listens on a free port; resolves with it. */
  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as { port: number }).port)));
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, tries = 0): void {
    this.track(client);
    if (tries >= this.backends.length) return void client.destroy();
    const port = this.backends[this.next++ % this.backends.length]!;
    const upstream = connect(port, '127.0.0.1');
    this.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    upstream.once('error', () => {
      if (!connected) this.accept(client, tries + 1); // refused: the next backend
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.sockets.delete(socket));
  }
}
