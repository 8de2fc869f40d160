import { css } from 'lit';

/** The look the built-in widgets share: a dark translucent card that reads over any video. */
export const cardStyles = css`
  :host { display: block; font: 14px/1.35 system-ui, sans-serif; color: #fff; }
  .card { background: rgb(0 0 0 / 0.78); border-radius: 10px; padding: 0.6em 0.8em; max-width: 22em; }
  button, a.action { all: unset; box-sizing: border-box; cursor: pointer; border: 1px solid rgb(255 255 255 / 0.45); border-radius: 6px; padding: 0.35em 0.6em; }
  button:focus-visible, a.action:focus-visible { outline: 2px solid #7cf; outline-offset: 2px; }
  /* The player's width, not the page's: <vidget-player> is a size container. */
  @container (max-width: 480px) { :host { font-size: 11px; } .card { padding: 0.45em 0.55em; } }
`;
