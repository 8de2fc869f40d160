import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { Participant } from '../../src/watch/participant.js';
import type { LinkQuality } from '../../src/watch/media/link-quality.js';
import type { WatchSession } from '../../src/watch/watch-session.js';
import { cardStyles } from '../shared/card-styles.js';

const SESSION_EVENTS = ['participantjoined', 'participantleft', 'participantchange', 'activespeakerchange', 'streamchange', 'statechange', 'hostchange'];

/**
 * `<vidget-watch-together>`: the people of a watch-together session as tiles (their camera or
 * screen, name, microphone and camera state, the active speaker outlined, a quality dot from
 * `qualitychange`), this page's camera, microphone and screen buttons, an invite box and the
 * session link to share. Set `session` to a `WatchSession`; `link` to the page address others
 * join with (default: this page with `#watch=<sessionId>`).
 */
export class VidgetWatchTogether extends LitElement {
  static override properties = { session: { attribute: false }, link: {}, notice: { state: true } };
  static override styles = [
    cardStyles,
    css`
      :host { container-type: inline-size; }
      .card { display: grid; gap: 0.6em; }
      .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 0.5em; }
      .tile { position: relative; aspect-ratio: 16 / 9; background: #223; border-radius: 8px; overflow: hidden; outline: 2px solid transparent; }
      .tile.speaking { outline-color: #5d8; }
      .tile video { width: 100%; height: 100%; object-fit: cover; display: block; }
      .avatar { position: absolute; inset: 0; display: grid; place-items: center; font-size: 1.8em; font-weight: 600; color: #cde; }
      .label { position: absolute; left: 0; right: 0; bottom: 0; display: flex; gap: 0.35em; align-items: center; padding: 0.2em 0.45em; background: linear-gradient(transparent, rgb(0 0 0 / 0.75)); font-size: 0.85em; }
      .name { flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .dot { width: 0.6em; height: 0.6em; border-radius: 50%; background: #888; flex: none; }
      .dot.good { background: #5d8; } .dot.fair { background: #fc4; } .dot.poor { background: #f55; }
      .muted { opacity: 0.55; }
      .controls, .share { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; }
      .share input { flex: 1 1 8em; }
      button[aria-pressed='true'] { background: rgb(255 255 255 / 0.2); }
      .notice { color: #fd8; font-size: 0.85em; }
    `,
  ];
  declare session: WatchSession | undefined;
  declare link: string | undefined;
  declare notice: string;
  private readonly quality = new Map<string, LinkQuality>();
  private readonly refresh = () => this.requestUpdate();
  private readonly onQuality = (e: Event) => {
    const { participantId, quality } = (e as CustomEvent<{ participantId: string; quality: LinkQuality }>).detail;
    if (this.quality.get(participantId)?.level !== quality.level) this.requestUpdate();
    this.quality.set(participantId, quality);
  };
  private readonly onError = (e: Event) => (this.notice = (e as Event & { error: Error }).error.message);

  constructor() {
    super();
    this.notice = '';
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('session')) return;
    this.listen(changed.get('session') as WatchSession | undefined, false);
    this.listen(this.session, true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.listen(this.session, false);
  }

  private listen(session: WatchSession | undefined, on: boolean): void {
    if (!session) return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    for (const type of SESSION_EVENTS) session[method](type, this.refresh);
    session[method]('qualitychange', this.onQuality);
    session[method]('error', this.onError);
  }

  override render() {
    const s = this.session;
    if (!s) return html`<div class="card">Not in a session.</div>`;
    const me = s.participants.find((p) => p.local);
    return html`<div class="card">
      <div class="tiles" role="list">${s.participants.map((p) => this.tile(p))}</div>
      <div class="controls">
        ${this.toggle('Microphone', me?.audioEnabled, () => (me?.audioEnabled ? s.disableAudio() : s.enableAudio()))}
        ${this.toggle('Camera', me?.videoEnabled, () => (me?.videoEnabled ? s.disableVideo() : s.enableVideo()))}
        ${this.toggle('Screen', me?.screenEnabled, () => (me?.screenEnabled ? s.stopScreenShare() : s.shareScreen()))}
        <button @click=${() => s.leave()}>Leave</button>
      </div>
      <div class="share">
        <input readonly aria-label="Session link" .value=${this.link ?? `${location.href.split('#')[0]}#watch=${s.sessionId}`} />
        <button @click=${() => this.copyLink()}>Copy link</button>
      </div>
      <form class="share" @submit=${(e: Event) => this.invite(e)}>
        <input name="user" aria-label="User id to invite" placeholder="user id" />
        <button>Invite</button>
      </form>
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
    </div>`;
  }

  private tile(p: Participant) {
    const stream = p.videoEnabled || p.screenEnabled || (!p.local && p.audioEnabled) ? this.session!.streamOf(p.id) : undefined;
    const level = this.quality.get(p.id)?.level;
    const shows = p.videoEnabled || p.screenEnabled;
    return html`<div class="tile ${p.speaking ? 'speaking' : ''}" role="listitem" data-participant=${p.id}>
      ${stream ? html`<video autoplay playsinline ?muted=${p.local} .muted=${p.local} .srcObject=${stream} style=${shows ? '' : 'display:none'}></video>` : nothing}
      ${shows ? nothing : html`<div class="avatar" aria-hidden="true">${p.name.slice(0, 1).toUpperCase()}</div>`}
      <div class="label">
        <span class="dot ${p.local ? 'good' : (level ?? '')}" title=${p.local ? 'you' : `connection: ${level ?? 'no media'}`}></span>
        <span class="name">${p.name}${p.local ? ' (you)' : ''}${p.state === 'reconnecting' ? ' · reconnecting…' : ''}</span>
        <span class=${p.audioEnabled ? '' : 'muted'} title=${p.audioEnabled ? 'microphone on' : 'microphone off'}>${p.audioEnabled ? '🎤' : '🔇'}</span>
        <span class=${p.videoEnabled ? '' : 'muted'} title=${p.videoEnabled ? 'camera on' : 'camera off'}>${p.videoEnabled ? '📷' : '🚫'}</span>
      </div>
    </div>`;
  }

  private toggle(label: string, on: boolean | undefined, act: () => Promise<void>) {
    return html`<button aria-pressed=${on ? 'true' : 'false'} @click=${() => act().catch(() => {})}>${label}</button>`;
  }

  private async copyLink(): Promise<void> {
    const input = this.renderRoot.querySelector('input') as HTMLInputElement;
    await navigator.clipboard?.writeText(input.value).catch(() => {});
    this.notice = 'Link copied';
  }

  private async invite(e: Event): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('user') as HTMLInputElement;
    const user = input.value.trim();
    if (!user || !this.session) return;
    input.value = '';
    this.notice = `Invited ${user}…`;
    try {
      this.notice = `${user}: ${await this.session.invite(user)}`;
    } catch (error) {
      this.notice = `${user}: ${(error as Error).message}`;
    }
  }
}

if (!customElements.get('vidget-watch-together')) customElements.define('vidget-watch-together', VidgetWatchTogether);
