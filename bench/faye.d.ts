// The parts of faye's API the bench uses (faye ships no types).
declare module 'faye' {
  import type { Server } from 'node:http';
  interface Subscription extends PromiseLike<void> {
    cancel(): void;
  }
  class Client {
    constructor(url: string, options?: { timeout?: number; retry?: number });
    disable(feature: string): void;
    subscribe(channel: string, handler: (message: any) => void): Subscription;
    publish(channel: string, data: unknown): PromiseLike<void>;
    disconnect(): void;
  }
  class NodeAdapter {
    constructor(options: { mount: string; timeout?: number });
    attach(server: Server): void;
  }
  const faye: { Client: typeof Client; NodeAdapter: typeof NodeAdapter };
  export default faye;
}
