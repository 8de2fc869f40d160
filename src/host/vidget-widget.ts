import { LitElement } from 'lit';
import type { Json } from '../protocol/index.js';
import type { WidgetApi } from './widget-api.js';

/**
 * Base class of Lit widgets. The host sets `api` (the widget's scoped api) and `props` before
 * the element is connected; `c8PlayerApi` is an alias of `api`.
 *
 * ```ts
 * class Hello extends VidgetWidget {
 *   render() { return html`<p>Hello ${this.props.name}</p>`; }
 * }
 * vidget.defineWidget('hello', Hello);
 * ```
 */
export class VidgetWidget extends LitElement {
  static override properties = { props: { attribute: false } };
  /** The entry's props from the config. */
  declare props: Record<string, Json>;
  /** The widget's scoped api. */
  api!: WidgetApi;

  constructor() {
    super();
    this.props = {};
  }

  /**
   * Moved, not removed (the player moves a widget below the video on a narrow player with
   * `moveBefore`): nothing to do, so the widget keeps its connection and listeners instead of a
   * disconnect and a connect.
   */
  connectedMoveCallback(): void {}

  /** Cinema8's name for the api. */
  get c8PlayerApi(): WidgetApi {
    return this.api;
  }
}
