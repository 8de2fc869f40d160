/**
 * The script that runs first inside a sandboxed widget's iframe: it defines `c8PlayerApi` (and
 * `vidgetApi`) as a proxy that talks to the host over postMessage. Plain JavaScript in a string,
 * because it runs in another (opaque) origin and must not depend on anything of the host's.
 * `__INIT__` is replaced with the widget's props, ids and the current player state.
 */
export const SANDBOX_RUNTIME = `(() => {
  const init = __INIT__;
  let state = init.state;
  let nextId = 1;
  const pending = new Map();
  const listeners = new Map();
  const sockets = new Map();
  const outbox = [];
  const post = (msg) => parent.postMessage(Object.assign({ __vidget: 1 }, msg), '*');
  const call = (m, a) => new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    post({ k: 'call', id, m, a: a || [] });
  });
  const fire = (fn, args) => { try { fn.apply(null, args); } catch (e) { console.error(e); } };
  function Socket(options) {
    const sid = nextId++;
    const self = this;
    this.state = 'starting';
    this.onOpen = this.onMessage = this.onActiveConnectionsChange = this.onClose = this.onError = null;
    sockets.set(sid, this);
    post({ k: 'socket', sid, options: options || {} });
    this.publish = (data) => call('socket.publish', [sid, data]);
    this.search = (req) => {
      const p = call('socket.search', [sid, req && req.query]);
      p.then((r) => req && req.success && req.success(r), (e) => req && req.error && req.error(e));
      return p;
    };
    // Removed once the host answers: its close event (onClose) comes before the answer.
    this.close = () => { call('socket.close', [sid]).catch(() => {}).then(() => sockets.delete(sid)); };
    this._event = (type, data) => {
      if (type === 'statechange') { self.state = data; return; }
      const hook = { open: 'onOpen', message: 'onMessage', activeconnectionschange: 'onActiveConnectionsChange', close: 'onClose', error: 'onError' }[type];
      if (hook && typeof self[hook] === 'function') fire(self[hook].bind(self), [type === 'error' ? data : { data }]);
    };
  }
  const api = {
    play: () => call('play'),
    pause: () => { call('pause').catch(() => {}); },
    seek: (t) => { call('seek', [t]).catch(() => {}); },
    get currentTime() { return state.currentTime; },
    set currentTime(t) { call('seek', [t]).catch(() => {}); },
    get duration() { return state.duration; },
    get paused() { return state.paused; },
    get volume() { return state.volume; },
    get muted() { return state.muted; },
    get playbackRate() { return state.playbackRate; },
    launchFullscreen: () => call('launchFullscreen'),
    exitFullscreen: () => call('exitFullscreen'),
    on(name, fn) {
      if (!listeners.has(name)) { listeners.set(name, new Set()); post({ k: 'on', name }); }
      listeners.get(name).add(fn);
      return () => api.off(name, fn);
    },
    off(name, fn) { const set = listeners.get(name); if (set) set.delete(fn); },
    once(name, fn) { const off = api.on(name, function () { off(); fn.apply(null, arguments); }); return off; },
    webSocket: function (options) { return new Socket(options); },
    getWidgetProps: () => structuredClone(init.props),
    getWidgetProp: (name) => structuredClone(init.props[name]),
    setVisible: () => { call('setVisible', [true]).catch(() => {}); },
    setInvisible: () => { call('setVisible', [false]).catch(() => {}); },
    getAuthenticatedUser: () => init.user,
    getVideoId: () => init.videoId,
    setVariable: (name, value, persistent) => { call('setVariable', [name, value, !!persistent]).catch(() => {}); },
    getVariable: (name) => state.variables[name],
    getVariables: () => Object.assign({}, state.variables),
    setState: (name, value, persistent) => { init.kept[name] = value; call('setState', [name, value, !!persistent]).catch(() => {}); },
    getState: (name) => init.kept[name],
    widgetId: init.widgetId,
    project: init.project,
  };
  api.c8PlayerApi = api;
  window.c8PlayerApi = window.vidgetApi = api;
  window.addEventListener('message', (e) => {
    if (e.source !== parent || !e.data || e.data.__vidget !== 1) return;
    const msg = e.data;
    if (msg.k === 'result') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value); else p.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    } else if (msg.k === 'state') {
      state = msg.state;
    } else if (msg.k === 'event') {
      for (const fn of [...(listeners.get(msg.name) || [])]) fire(fn, msg.args);
    } else if (msg.k === 'sevent') {
      const s = sockets.get(msg.sid);
      if (s) s._event(msg.type, msg.data);
    }
  });
  new ResizeObserver(() => post({ k: 'resize', height: document.documentElement.scrollHeight })).observe(document.documentElement);
  post({ k: 'ready' });
})();`;
