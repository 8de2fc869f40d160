import type { IceServer, Json, WatchClientFrame } from '../../protocol/index.js';
import type { Participant } from '../participant.js';
import { qualityOf, type LinkQuality, type StatsTotals } from './link-quality.js';
import { PeerLink, type Signal } from './peer-link.js';
import { applyVideoQuality, type VideoQuality } from './video-quality.js';

/** Media flags a participant announces. */
export interface MediaFlags {
  audio: boolean;
  video: boolean;
  screen: boolean;
}

/** What the mesh needs of its session. */
export interface MeshHost {
  /** The session's ids and participants, read when needed. */
  readonly session: { readonly sessionId: string; readonly participantId: string; readonly participants: Participant[] };
  readonly iceServers: IceServer[];
  send(frame: WatchClientFrame): boolean;
  /** Announces this page's flags; rejects with `mesh_full` when the server refuses a start. */
  announce(flags: MediaFlags): Promise<void>;
  dispatchEvent(event: Event): boolean;
}

/** How often stats are read (quality, audio levels). */
const STATS_MS = 500;
/** A microphone level (RMS, 0-1) above this is speech; speaking lasts this long after it falls silent. */
const SPEAKING_LEVEL = 0.05;
const SPEAKING_HOLD_MS = 1_200;

/**
 * The session's audio and video: this page's camera, microphone and screen, and one WebRTC
 * connection ({@link PeerLink}) to every other connected participant (a full mesh, signalled over
 * the session). Reads `getStats()` for each link's quality (`qualitychange`) and for this page's
 * microphone level: a page says itself when it speaks (through the server, so every page agrees
 * on the active speaker; a received track's level is only measured where it is played out).
 * Loaded on the first use of media in a session.
 */
export class MediaMesh {
  readonly localStream = new MediaStream();
  readonly flags: MediaFlags = { audio: false, video: false, screen: false };
  readonly quality = new Map<string, LinkQuality>();
  private readonly links = new Map<string, PeerLink>();
  private readonly totals = new Map<string, StatsTotals>();
  private readonly tracks: Partial<Record<keyof MediaFlags, MediaStreamTrack>> = {};
  private videoQuality: VideoQuality = 'medium';
  private speaking = false;
  private lastSpoke = 0;
  private energy: { total: number; duration: number } | undefined;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly host: MeshHost) {
    this.timer = setInterval(() => void this.readStats(), STATS_MS);
    this.connectAll();
  }

  /** Remote participants' media, by participant id. */
  streamOf(pid: string): MediaStream | undefined {
    return pid === this.host.session.participantId ? this.localStream : this.links.get(pid)?.stream;
  }

  /** Starts sending the camera, microphone or screen (announced first: past the mesh limit it throws `mesh_full`). */
  async enable(kind: keyof MediaFlags): Promise<void> {
    if (this.tracks[kind]) return;
    await this.host.announce({ ...this.flags, [kind]: true });
    let track: MediaStreamTrack;
    try {
      track = await capture(kind);
    } catch (error) {
      await this.host.announce({ ...this.flags }).catch(() => {});
      throw error;
    }
    this.tracks[kind] = track;
    this.flags[kind] = true;
    this.localStream.addTrack(track);
    // The browser's own "stop sharing" ends the track.
    track.addEventListener('ended', () => void this.disable(kind));
    for (const link of this.links.values()) this.send(link, kind, track);
  }

  /** Stops sending one kind of media. */
  async disable(kind: keyof MediaFlags): Promise<void> {
    const track = this.tracks[kind];
    if (!track) return;
    delete this.tracks[kind];
    this.flags[kind] = false;
    if (kind === 'audio') this.speaking = false;
    track.stop();
    this.localStream.removeTrack(track);
    for (const link of this.links.values()) link.removeTrack(track);
    await this.host.announce({ ...this.flags }).catch(() => {});
  }

  /** Sets the camera's encoding (bitrate cap and resolution scale) on every link. */
  async setVideoQuality(quality: VideoQuality): Promise<void> {
    this.videoQuality = quality;
    const track = this.tracks.video;
    if (!track) return;
    await Promise.all([...this.links.values()].map((link) => link.senderOf(track)).map((sender) => sender && applyVideoQuality(sender, quality)));
  }

  /** Participants changed: links to new ones, closed for those gone. */
  connectAll(): void {
    const present = new Set(this.host.session.participants.filter((p) => !p.local).map((p) => p.id));
    for (const pid of present) this.linkTo(pid);
    for (const [pid, link] of this.links) {
      if (present.has(pid)) continue;
      link.close();
      this.links.delete(pid);
      this.totals.delete(pid);
      this.quality.delete(pid);
    }
  }

  /** A signalling message from another participant. */
  receive(from: string, data: Json): void {
    void this.linkTo(from)
      .receive(data as Signal)
      .catch((error: unknown) => console.warn('vidget: watch-together signalling failed', error));
  }

  /** Stops every track and connection. */
  stop(): void {
    clearInterval(this.timer);
    for (const track of Object.values(this.tracks)) track.stop();
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private linkTo(pid: string): PeerLink {
    let link = this.links.get(pid);
    if (link) return link;
    const { host } = this;
    const { session } = host;
    link = new PeerLink(
      pid,
      session.participantId > pid,
      host.iceServers,
      (data) => host.send({ type: 'signal', sid: session.sessionId, to: pid, data }),
      (l) => host.dispatchEvent(new CustomEvent('streamchange', { detail: { participantId: l.remoteId, stream: l.stream } })),
    );
    this.links.set(pid, link);
    for (const [kind, track] of Object.entries(this.tracks)) this.send(link, kind as keyof MediaFlags, track);
    return link;
  }

  private send(link: PeerLink, kind: keyof MediaFlags, track: MediaStreamTrack): void {
    link.addTrack(track, this.localStream);
    if (kind === 'video') {
      const sender = link.senderOf(track);
      // Encodings can be set once the sender is negotiated; until then the browser's defaults hold.
      if (sender) void applyVideoQuality(sender, this.videoQuality).catch(() => {});
    }
  }

  private async readStats(): Promise<void> {
    let local: RTCStatsReport | undefined;
    for (const [pid, link] of this.links) {
      const report = await link.pc.getStats();
      local ??= report;
      const { quality, totals } = qualityOf(report, this.totals.get(pid));
      this.totals.set(pid, totals);
      this.quality.set(pid, quality);
      this.host.dispatchEvent(new CustomEvent('qualitychange', { detail: { participantId: pid, quality } }));
    }
    if (local) this.detectSpeech(local);
  }

  /** From the microphone's energy over the last interval; a change is announced. */
  private detectSpeech(report: RTCStatsReport): void {
    const energy = microphoneEnergy(report);
    const previous = this.energy;
    this.energy = energy;
    if (!this.tracks.audio || !energy || !previous || energy.duration <= previous.duration) return;
    const rms = Math.sqrt((energy.total - previous.total) / (energy.duration - previous.duration));
    const now = performance.now();
    if (rms > SPEAKING_LEVEL) this.lastSpoke = now;
    const speaking = now - this.lastSpoke < SPEAKING_HOLD_MS;
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    this.host.send({ type: 'media', sid: this.host.session.sessionId, ...this.flags, speaking });
  }
}

/** This page's microphone: total energy and duration (`media-source` stats). */
function microphoneEnergy(report: RTCStatsReport): { total: number; duration: number } | undefined {
  let found: { total: number; duration: number } | undefined;
  report.forEach((s: Record<string, unknown>) => {
    if (s.type === 'media-source' && s.kind === 'audio') found = { total: Number(s.totalAudioEnergy ?? 0), duration: Number(s.totalSamplesDuration ?? 0) };
  });
  return found;
}

/** Asks the browser for one track: microphone, camera (640x360) or a screen. */
async function capture(kind: keyof MediaFlags): Promise<MediaStreamTrack> {
  if (kind === 'screen') return (await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false })).getVideoTracks()[0]!;
  const stream = await navigator.mediaDevices.getUserMedia(kind === 'audio' ? { audio: true } : { video: { width: 640, height: 360 } });
  return stream.getTracks()[0]!;
}
