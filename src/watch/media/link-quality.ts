/** Quality of service of one participant's media as this page receives it (from `getStats()`). */
export interface LinkQuality {
  /** Received bits per second, audio and video, over the last interval. */
  bitrate: number;
  /** Packets lost over all packets expected, 0-1, over the last interval. */
  packetLoss: number;
  /** Round-trip time in ms (the selected candidate pair), or NaN before it is known. */
  rtt: number;
  /** Decoded video frames per second (0 without video). */
  fps: number;
  /** Video frames decoded since the start. */
  framesDecoded: number;
  /** Width of the video frames received (0 without video). */
  frameWidth: number;
  /** `good`, `fair` or `poor`, from loss and round trip. */
  level: 'good' | 'fair' | 'poor';
}

/** Running totals one interval's figures are the difference of. */
export interface StatsTotals {
  at: number;
  bytes: number;
  received: number;
  lost: number;
}

type Stat = Record<string, unknown> & { type: string; kind?: string };

/** Reads one `getStats()` report against the previous totals; returns the quality and the new totals. */
export function qualityOf(report: RTCStatsReport, previous: StatsTotals | undefined): { quality: LinkQuality; totals: StatsTotals } {
  let bytes = 0;
  let received = 0;
  let lost = 0;
  let fps = 0;
  let framesDecoded = 0;
  let frameWidth = 0;
  let rtt = NaN;
  report.forEach((s: Stat) => {
    if (s.type === 'inbound-rtp') {
      bytes += Number(s.bytesReceived ?? 0);
      received += Number(s.packetsReceived ?? 0);
      lost += Number(s.packetsLost ?? 0);
      if (s.kind === 'video') {
        fps = Number(s.framesPerSecond ?? 0);
        framesDecoded = Number(s.framesDecoded ?? 0);
        frameWidth = Number(s.frameWidth ?? 0);
      }
    }
    if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) rtt = Number(s.currentRoundTripTime) * 1000;
  });
  const totals = { at: performance.now(), bytes, received, lost };
  const seconds = previous ? (totals.at - previous.at) / 1000 : 0;
  const bitrate = previous && seconds > 0 ? ((bytes - previous.bytes) * 8) / seconds : 0;
  const expected = previous ? received - previous.received + (lost - previous.lost) : 0;
  const packetLoss = expected > 0 ? Math.max(0, (lost - previous!.lost) / expected) : 0;
  const level = packetLoss > 0.1 || rtt > 400 ? 'poor' : packetLoss > 0.02 || rtt > 150 ? 'fair' : 'good';
  return { quality: { bitrate, packetLoss, rtt, fps, framesDecoded, frameWidth, level }, totals };
}
