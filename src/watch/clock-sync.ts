import type { WatchServerFrame } from '../protocol/index.js';
import type { WatchChannel } from './watch-channel.js';

/** One probe's outcome: the server's clock minus ours, and the round trip it was measured over. */
interface Sample {
  offset: number;
  rtt: number;
}

/** Probes at start (and after each reconnect), then one every `INTERVAL_MS`. */
const BURST = 8;
const BURST_GAP_MS = 40;
const INTERVAL_MS = 2_000;
/** Samples kept; the offset is the one of the shortest round trip among them. */
const KEEP = 16;

/** This page's clock (ms): monotonic, on the wall-clock scale. */
export const localNow = (): number => performance.timeOrigin + performance.now();

/**
 * The page's estimate of the server's clock, NTP style: a probe `{t0}` is answered with the
 * server's time; over the probe, `offset = server − (t0 + t1) / 2` with an error under half the
 * round trip. Probes repeat (a burst after each (re)connect, then every 2 s) and the sample
 * with the shortest round trip of the last 16 wins, since queueing only ever lengthens a trip.
 */
export class ClockSync {
  /** Server time minus local time (ms). */
  offset = 0;
  /** Round trip of the sample in use (ms); half of it bounds the offset's error. */
  rtt = Infinity;
  private samples: Sample[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private burstLeft = 0;
  private readonly onFrame = (e: Event) => this.take((e as CustomEvent<WatchServerFrame>).detail);
  private readonly onState = () => {
    if (this.channel.state === 'running') this.burst();
  };

  constructor(private readonly channel: WatchChannel) {
    channel.addEventListener('frame', this.onFrame);
    channel.addEventListener('statechange', this.onState);
    if (channel.state === 'running') this.burst();
  }

  /** The server's clock now (ms). */
  now(): number {
    return localNow() + this.offset;
  }

  /** Converts a local time (`performance.now()` scale) to server time. */
  toServer(perfNow: number): number {
    return performance.timeOrigin + perfNow + this.offset;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.channel.removeEventListener('frame', this.onFrame);
    this.channel.removeEventListener('statechange', this.onState);
  }

  private burst(): void {
    this.burstLeft = BURST;
    this.probe();
  }

  private probe(): void {
    clearTimeout(this.timer);
    this.channel.send({ type: 'time', t0: localNow() });
    const gap = this.burstLeft-- > 0 ? BURST_GAP_MS : INTERVAL_MS;
    this.timer = setTimeout(() => this.probe(), gap);
  }

  private take(frame: WatchServerFrame): void {
    if (frame.type !== 'time') return;
    const t1 = localNow();
    const rtt = t1 - frame.t0;
    if (rtt < 0) return;
    this.samples.push({ offset: frame.now - (frame.t0 + t1) / 2, rtt });
    if (this.samples.length > KEEP) this.samples.shift();
    const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.offset = best.offset;
    this.rtt = best.rtt;
  }
}
