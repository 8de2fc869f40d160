import { KeyedBuckets } from './keyed-buckets.js';

/** A sustained rate and a burst. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** The rates that outlive a connection: per client address and per project. */
export interface SharedRates {
  /** WebSocket connects per address. Default 20/s, burst 100. */
  connectsPerAddress: Rate;
  /** Frames (publishes and searches) per address, over all its connections. Default 500/s, burst 1000. */
  framesPerAddress: Rate;
  /** Frames per project, over all its connections. Default 5000/s, burst 10000. */
  framesPerProject: Rate;
  /** REST requests per address. Default 50/s, burst 100. */
  requestsPerAddress: Rate;
}

/** Defaults of {@link SharedRates}. */
export const DEFAULT_RATES: SharedRates = {
  connectsPerAddress: { perSecond: 20, burst: 100 },
  framesPerAddress: { perSecond: 500, burst: 1000 },
  framesPerProject: { perSecond: 5000, burst: 10_000 },
  requestsPerAddress: { perSecond: 50, burst: 100 },
};

/**
 * The server's shared rate limits. The per-connection bucket alone started full on every
 * connect, so connecting, bursting and leaving put 132× the limit into a room from one address.
 */
export class Limiter {
  private readonly connects: KeyedBuckets;
  private readonly addressFrames: KeyedBuckets;
  private readonly projectFrames: KeyedBuckets;
  private readonly requests: KeyedBuckets;

  constructor(rates: Partial<SharedRates> = {}) {
    const r = { ...DEFAULT_RATES, ...rates };
    this.connects = new KeyedBuckets(r.connectsPerAddress.perSecond, r.connectsPerAddress.burst);
    this.addressFrames = new KeyedBuckets(r.framesPerAddress.perSecond, r.framesPerAddress.burst);
    this.projectFrames = new KeyedBuckets(r.framesPerProject.perSecond, r.framesPerProject.burst);
    this.requests = new KeyedBuckets(r.requestsPerAddress.perSecond, r.requestsPerAddress.burst);
  }

  /** A WebSocket connect from `address` (a limit key). */
  connect(address: string): boolean {
    return this.connects.take(address);
  }

  /** A frame from `address` into `project`. */
  frame(address: string, project: string): boolean {
    return this.addressFrames.take(address) && this.projectFrames.take(project);
  }

  /** A REST request from `address`. */
  request(address: string): boolean {
    return this.requests.take(address);
  }
}
