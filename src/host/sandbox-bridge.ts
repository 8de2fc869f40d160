import { ErrorCode, VidgetError } from '../protocol/errors.js';
import type { Json } from '../protocol/record.js';
import { TokenBucket } from '../protocol/token-bucket.js';
import type { PlayerApi } from '../player/player-api.js';
import type { WidgetSocket } from '../socket/index.js';
import { SANDBOX_RUNTIME } from './sandbox-runtime.js';
import type { WidgetScope } from './widget-api.js';
import type { WidgetEntry } from './widget-config.js';

/** Messages a sandboxed widget may send per second (burst twice that); more are dropped. */
const BRIDGE_RATE = 200;
const MAX_HEIGHT = 600;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
// JSON inside a <script>: keep `</script>` and friends from closing it.
const scriptSafe = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/**
 * Runs a widget's code in `<iframe sandbox="allow-scripts">` (an opaque origin: no access to the
 * page's DOM, cookies or storage) and serves it the widget api over postMessage. Only messages
 * from that iframe are read, each is checked against what the api offers, and a flood past
 * `BRIDGE_RATE` is dropped and reported once. Everything goes through the widget's own scoped api,
 * so its sockets are its own and teardown is the same as for any widget. Returns the cleanup.
 */
export function mountSandboxed(entry: WidgetEntry & { src: string }, scope: WidgetScope, root: ShadowRoot, player: PlayerApi, onError: (error: unknown) => void): () => void {
  const { api } = scope;
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.title = `${entry.type} widget`;
  iframe.style.cssText = 'border: 0; display: block; width: 320px; max-width: 100%; height: 80px; background: transparent;';
  const snapshot = () => ({
    currentTime: player.currentTime,
    duration: player.duration,
    paused: player.paused,
    volume: player.volume,
    muted: player.muted,
    playbackRate: player.playbackRate,
    variables: player.getVariables(),
  });
  // The widget's own state (api.setState) travels with it: the frame reads it synchronously.
  const prefix = `${entry.id}/`;
  const kept = Object.fromEntries(
    Object.entries(player.widgetState.all())
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const init = { props: entry.props, widgetId: entry.id, videoId: api.getVideoId(), user: api.getAuthenticatedUser(), project: api.project, state: snapshot(), kept };
  const src = new URL(entry.src, document.baseURI).href;
  // The partner script is deferred and in the body: it runs once the document is parsed, so
  // `document.body` is there for it, as a widget script expects.
  iframe.srcdoc =
    `<!doctype html><meta charset="utf-8"><style>html,body{margin:0;background:transparent;font:14px system-ui}</style>` +
    `<script>${SANDBOX_RUNTIME.replace('__INIT__', scriptSafe(init))}</script><body><script defer src="${escapeHtml(src)}"></script>`;

  let ready = false;
  const queued: unknown[] = [];
  const post = (msg: Record<string, unknown>) => {
    const message = { __vidget: 1, ...msg };
    if (!ready) queued.push(message);
    else iframe.contentWindow?.postMessage(message, '*');
  };
  const sockets = new Map<number, WidgetSocket>();
  const bucket = new TokenBucket(BRIDGE_RATE, BRIDGE_RATE * 2);
  let flooding = false;

  const reply = (id: unknown, result: Promise<unknown> | unknown) => {
    Promise.resolve(result).then(
      (value) => post({ k: 'result', id, ok: true, value: value === undefined ? null : structuredClone(value) }),
      (error: unknown) => post({ k: 'result', id, ok: false, error: { code: error instanceof VidgetError ? error.code : ErrorCode.Internal, message: String((error as Error)?.message ?? error) } }),
    );
  };
  const socketOf = (sid: unknown): WidgetSocket => {
    const socket = sockets.get(sid as number);
    if (!socket) throw new VidgetError(ErrorCode.BadFrame, 'no such socket of this widget');
    return socket;
  };
  const methods: Record<string, (...args: unknown[]) => unknown> = {
    play: () => api.play(),
    pause: () => api.pause(),
    seek: (t) => typeof t === 'number' && Number.isFinite(t) && api.seek(t),
    launchFullscreen: () => api.launchFullscreen(),
    exitFullscreen: () => api.exitFullscreen(),
    setVisible: (visible) => (visible === true ? api.setVisible() : api.setInvisible()),
    setVariable: (name, value, persistent) => typeof name === 'string' && api.setVariable(name, value as Json, persistent === true),
    setState: (name, value, persistent) => typeof name === 'string' && api.setState(name, value as Json, persistent === true),
    'socket.publish': (sid, data) => socketOf(sid).publish(data as Json),
    'socket.search': (sid, query) => socketOf(sid).search({ query: query as never }),
    'socket.close': (sid) => {
      socketOf(sid).close();
      sockets.delete(sid as number);
    },
  };

  const openSocket = (sid: number, options: Record<string, unknown>) => {
    if (sockets.has(sid)) return;
    const socket = api.webSocket({ persistent: options.persistent === true, ...(typeof options.catchup === 'string' ? { catchup: options.catchup } : {}) });
    sockets.set(sid, socket);
    const forward = (type: string, data: unknown) => post({ k: 'sevent', sid, type, data });
    const { signal } = api;
    socket.addEventListener('open', () => forward('open', null), { signal });
    socket.addEventListener('message', (e) => forward('message', e.data), { signal });
    socket.addEventListener('activeconnectionschange', (e) => forward('activeconnectionschange', e.data), { signal });
    socket.addEventListener('close', (e) => forward('close', { code: e.code, reason: e.reason }), { signal });
    socket.addEventListener('error', (e) => forward('error', { code: e.error.code, message: e.error.message }), { signal });
    socket.addEventListener('statechange', (e) => forward('statechange', e.state), { signal });
  };

  const onMessage = (event: MessageEvent) => {
    if (event.source !== iframe.contentWindow) return; // only this widget's frame
    if (!bucket.take()) {
      if (!flooding) onError(new VidgetError(ErrorCode.RateLimited, `sandboxed widget "${entry.id}" is flooding the bridge; messages dropped`));
      flooding = true;
      return;
    }
    flooding = false;
    const msg = event.data as Record<string, unknown> | null;
    if (!msg || typeof msg !== 'object' || msg.__vidget !== 1) return;
    switch (msg.k) {
      case 'ready':
        ready = true;
        for (const m of queued.splice(0)) iframe.contentWindow?.postMessage(m, '*');
        return;
      case 'resize':
        if (typeof msg.height === 'number') iframe.style.height = `${Math.min(MAX_HEIGHT, Math.max(0, Math.ceil(msg.height)))}px`;
        return;
      case 'on':
        if (typeof msg.name === 'string' && msg.name.length < 64) api.on(msg.name, (...args: unknown[]) => post({ k: 'event', name: msg.name, args: structuredClone(args) }));
        return;
      case 'socket':
        if (typeof msg.sid === 'number') openSocket(msg.sid, (msg.options ?? {}) as Record<string, unknown>);
        return;
      case 'call': {
        const method = typeof msg.m === 'string' && Object.hasOwn(methods, msg.m) ? methods[msg.m]! : undefined;
        if (!method || !Array.isArray(msg.a)) return reply(msg.id, Promise.reject(new VidgetError(ErrorCode.BadFrame, `no method "${String(msg.m).slice(0, 40)}"`)));
        try {
          return reply(msg.id, method(...msg.a));
        } catch (error) {
          return reply(msg.id, Promise.reject(error));
        }
      }
    }
  };
  window.addEventListener('message', onMessage, { signal: api.signal });
  // The frame reads media state synchronously from the latest snapshot.
  const push = () => post({ k: 'state', state: snapshot() });
  for (const name of ['timeupdate', 'play', 'pause', 'seeked', 'ratechange', 'volumechange', 'loadedmetadata', 'variableChange']) api.on(name, push);
  root.append(iframe);
  // widgetDestroy reaches the frame through its own `on('widgetDestroy')`, before this runs.
  return () => iframe.remove();
}
