import { LitElement, css, html, nothing } from 'lit';
import { cardStyles } from './card-styles.js';
import { senderName } from './sender-name.js';
import { NAME_EVENT, viewerNames } from './viewer-names.js';

/**
 * `<vidget-name-line>`: "Posting as …" under a chat or quiz. A verified name (from a token) is
 * shown as such and cannot be changed here; otherwise, where the widget allows typed names, the
 * viewer sets one once for the project (kept in the browser) and every widget uses it.
 */
export class NameLine extends LitElement {
  static override properties = {
    project: {},
    username: { attribute: false },
    clientId: { attribute: false },
    allowTyped: { type: Boolean, attribute: 'allow-typed' },
    prefix: {},
    fallback: { attribute: false },
    editing: { state: true },
  };
  static override styles = [
    cardStyles,
    css`
    :host { font-size: 0.85em; }
    p, form { margin: 0; display: flex; flex-wrap: wrap; gap: 0.3em; align-items: center; }
    button { padding: 0.1em 0.45em; }
    input { flex: 1; }
  `,
  ];
  declare project: string;
  declare username: string | null;
  declare clientId: string;
  declare allowTyped: boolean;
  declare prefix: string;
  /** The page's default name for viewers without one (a widget's `name` prop). */
  declare fallback: unknown;
  declare editing: boolean;
  private readonly onName = () => this.requestUpdate();

  constructor() {
    super();
    this.project = '';
    this.username = null;
    this.clientId = '';
    this.allowTyped = true;
    this.prefix = 'Posting as';
    this.editing = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener(NAME_EVENT, this.onName);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener(NAME_EVENT, this.onName);
  }

  override updated(): void {
    if (this.editing) this.renderRoot.querySelector('input')?.focus();
  }

  private save(event: Event): void {
    event.preventDefault();
    viewerNames.set(this.project, (this.renderRoot.querySelector('input') as HTMLInputElement).value);
    this.editing = false;
  }

  override render() {
    const typed = this.allowTyped ? viewerNames.get(this.project) : undefined;
    if (this.editing) {
      return html`<form @submit=${this.save}><input aria-label="Your display name" maxlength="40" .value=${typed ?? ''} autocomplete="nickname" /><button>Save</button></form>`;
    }
    const canType = this.allowTyped && this.username === null;
    return html`<p>${this.prefix} <strong>${senderName(this.username, this.allowTyped ? { name: viewerNames.current(this.project, this.fallback) } : null, this.clientId)}</strong>${
      canType ? html`<button @click=${() => (this.editing = true)}>${typed ? 'Change name' : 'Set your name'}</button>` : nothing
    }</p>`;
  }
}

/**
 * Defines `<vidget-name-line>` (once). Called by the widgets that use it, in their own modules: a
 * module with side effects of its own would be dropped by bundlers (package.json's `sideEffects`
 * names only vidget/define), and a widget module runs as a whole, being loaded on demand.
 */
export function defineNameLine(): void {
  if (!customElements.get('vidget-name-line')) customElements.define('vidget-name-line', NameLine);
}
