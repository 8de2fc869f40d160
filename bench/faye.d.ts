// The parts of faye's API the bench and the Bayeux tests use (faye ships no types).
declare module 'faye' {
  import type { Server } from 'node:http';
  interface Subscription extends PromiseLike<void> {
    cancel(): void;
    /** Called with the refusal when the server does not accept the subscription. */
    errback(fn: (error: FayeError) => void): void;
    withChannel(fn: (channel: string, message: any) => void): void;
  }
  /** A refusal as Faye's client parses it (`"403:/a/b,forbidden:message"`). */
  interface FayeError {
    code: number;
    params: string[];
    message: string;
  }
  interface Message {
    channel: string;
    data?: unknown;
    ext?: Record<string, unknown>;
    error?: string;
    successful?: boolean;
    [key: string]: unknown;
  }
  interface Extension {
    incoming?(message: Message, callback: (message: Message) => void): void;
    outgoing?(message: Message, callback: (message: Message) => void): void;
  }
  class Client {
    constructor(url: string, options?: { timeout?: number; retry?: number; endpoints?: Record<string, string> });
    disable(feature: string): void;
    addExtension(extension: Extension): void;
    subscribe(channel: string, handler: (message: any) => void): Subscription;
    /** A list subscribes to each (one handler), one subscription each. */
    subscribe(channels: string[], handler: (message: any) => void): Subscription[];
    publish(channel: string, data: unknown, options?: { attempts?: number; deadline?: number }): PromiseLike<void>;
    getClientId(): string | undefined;
    on(event: 'transport:up' | 'transport:down', fn: () => void): void;
    /** Resolves once the server has the disconnect (undefined when not connected). */
    disconnect(): PromiseLike<void> | undefined;
  }
  class NodeAdapter {
    constructor(options: { mount: string; timeout?: number });
    attach(server: Server): void;
  }
  const faye: { Client: typeof Client; NodeAdapter: typeof NodeAdapter };
  export default faye;
}
