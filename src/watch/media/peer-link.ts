import type { IceServer, Json } from '../../protocol/index.js';

/** A signalling message between two pages: a session description or an ICE candidate. */
export type Signal = { description: RTCSessionDescriptionInit } | { candidate: RTCIceCandidateInit | null };

/**
 * One WebRTC connection of the mesh, to one remote participant, negotiated with the "perfect
 * negotiation" pattern: either side may (re)negotiate when its tracks change; on a collision the
 * polite side (the larger participant id) rolls its offer back and the impolite side's wins.
 */
export class PeerLink {
  readonly pc: RTCPeerConnection;
  /** The remote participant's media, once a track arrived. */
  readonly stream = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;
  private readonly senders = new Map<MediaStreamTrack, RTCRtpSender>();

  constructor(
    readonly remoteId: string,
    private readonly polite: boolean,
    iceServers: IceServer[],
    private readonly signal: (data: Json) => void,
    onTrack: (link: PeerLink) => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = ({ candidate }) => this.signal({ candidate: candidate ? (candidate.toJSON() as unknown as Json) : null });
    this.pc.onnegotiationneeded = () => void this.offer();
    this.pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      track.addEventListener('ended', () => this.stream.removeTrack(track));
      onTrack(this);
    };
  }

  /** Sends `track` to the remote participant (a renegotiation follows). */
  addTrack(track: MediaStreamTrack, stream: MediaStream): void {
    if (!this.senders.has(track)) this.senders.set(track, this.pc.addTrack(track, stream));
  }

  /** Stops sending `track`. */
  removeTrack(track: MediaStreamTrack): void {
    const sender = this.senders.get(track);
    if (!sender) return;
    this.senders.delete(track);
    this.pc.removeTrack(sender);
  }

  /** The sender of a local track, to change its encoding. */
  senderOf(track: MediaStreamTrack): RTCRtpSender | undefined {
    return this.senders.get(track);
  }

  /** A signalling message from the remote participant. */
  async receive(message: Signal): Promise<void> {
    if ('description' in message) {
      const { description } = message;
      const collision = description.type === 'offer' && (this.makingOffer || this.pc.signalingState !== 'stable');
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        await this.pc.setLocalDescription();
        this.signal({ description: this.pc.localDescription!.toJSON() as unknown as Json });
      }
    } else {
      try {
        await this.pc.addIceCandidate(message.candidate ?? undefined);
      } catch (error) {
        if (!this.ignoreOffer) throw error;
      }
    }
  }

  close(): void {
    this.pc.close();
  }

  private async offer(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      this.signal({ description: this.pc.localDescription!.toJSON() as unknown as Json });
    } finally {
      this.makingOffer = false;
    }
  }
}
