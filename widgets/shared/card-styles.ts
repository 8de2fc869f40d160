import { css } from 'lit';

/**
 * The look the built-in widgets share: a dark translucent card that reads over any video. The
 * font stack names the colour emoji fonts of each platform after the text fonts, so reactions,
 * pins and badges are drawn in colour rather than as monochrome glyphs or boxes. A card fills the
 * width the player gives it (the cards of one region share one width).
 */
export const cardStyles = css`
  :host { display: block; font: 14px/1.35 system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif, 'Apple Color Emoji', 'Segoe UI Emoji', 'Segoe UI Symbol', 'Noto Color Emoji'; color: #fff; }
  .card { background: rgb(0 0 0 / 0.78); border-radius: 10px; padding: 0.6em 0.8em; box-sizing: border-box; }
  button, a.action { all: unset; box-sizing: border-box; cursor: pointer; border: 1px solid rgb(255 255 255 / 0.45); border-radius: 6px; padding: 0.35em 0.6em; }
  button:focus-visible, a.action:focus-visible, input:focus-visible { outline: 2px solid #7cf; outline-offset: 2px; }
  input { font: inherit; color: inherit; background: rgb(255 255 255 / 0.12); border: 1px solid rgb(255 255 255 / 0.45); border-radius: 6px; padding: 0.3em 0.5em; min-width: 0; }
  /* The connection state, from the socket's lifecycle: stale numbers are shown muted. */
  .conn { font-size: 0.8em; color: #fd8; margin-left: 0.4em; font-weight: normal; }
  .stale { opacity: 0.7; }
  .verified { color: #7cf; margin-left: 0.2em; }
  /* The player's width, not the page's: <vidget-player> is a size container. */
  @container (max-width: 480px) { :host { font-size: 11px; } .card { padding: 0.45em 0.55em; } }
`;
