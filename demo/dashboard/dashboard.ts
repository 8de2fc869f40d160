import { AnalyticsSubscription } from '../../src/platform/analytics-subscription.js';
import type { AnalyticsSnapshot } from '../../src/protocol/platform.js';
import { Charts } from './charts.js';
import { analyticsToken } from './credentials.js';
import { summarize, type Summary } from './summary.js';

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const duration = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)}s`);
const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const STATUS: Record<string, string> = {
  running: 'Live',
  starting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  resuming: 'Reconnecting…',
  paused: 'Paused',
  failed: 'No access',
  stopped: 'Stopped',
};

/** The page's parameters: `?project=&catchup=&key=&token=` (the key and token are read, then taken out of the address bar). */
function params(): { project: string; catchup: string; key?: string; token?: string } {
  const q = new URLSearchParams(location.search);
  const key = q.get('key') ?? undefined;
  const token = q.get('token') ?? undefined;
  if (key || token) {
    q.delete('key');
    q.delete('token');
    history.replaceState(null, '', `${location.pathname}?${q}`);
  }
  return { project: q.get('project') ?? 'demo', catchup: q.get('catchup') ?? '30m', ...(key ? { key } : {}), ...(token ? { token } : {}) };
}

function renderKpis(s: Summary): void {
  $('#kpi-now').textContent = String(s.watchingNow);
  $('#kpi-peak').textContent = `peak ${s.peak}`;
  $('#kpi-plays').textContent = s.plays.toLocaleString();
  $('#kpi-watch').textContent = duration(s.avgWatchSeconds);
  $('#kpi-completion').textContent = `${Math.round(s.completionRate * 100)}%`;
  $('#kpi-interactions').textContent = s.interactions.reduce((n, [, c]) => n + c, 0).toLocaleString();
}

function renderTables(s: Summary): void {
  const videos = $('#videos tbody');
  videos.replaceChildren(...s.videos.slice(0, 10).map((v) => row([v.id, String(v.watching), String(v.plays)])));
  $('#videos-empty').hidden = s.videos.length > 0;
  const top = Math.max(1, ...s.interactions.map(([, n]) => n));
  $('#widgets').replaceChildren(
    ...s.interactions.slice(0, 8).map(([id, n]) => {
      const li = document.createElement('li');
      li.innerHTML = '<span class="name"></span><span class="meter"><i></i></span><span class="n"></span>';
      li.querySelector('.name')!.textContent = id;
      (li.querySelector('i') as HTMLElement).style.width = `${(n / top) * 100}%`;
      li.querySelector('.n')!.textContent = n.toLocaleString();
      return li;
    }),
  );
  $('#widgets-empty').hidden = s.interactions.length > 0;
}

function row(cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const text of cells) tr.insertCell().textContent = text;
  return tr;
}

/** The series as a table, for screen readers and tests (the charts are canvases). */
function renderData(series: readonly AnalyticsSnapshot[]): void {
  $('#data tbody').replaceChildren(...series.slice(-60).map((s) => row([clock(s.at), String(s.concurrentViewers), String(s.plays), s.avgWatchSeconds.toFixed(1)])));
}

async function main(): Promise<void> {
  const { project, catchup, ...given } = params();
  $('#project').textContent = project;
  const range = $('#range') as HTMLSelectElement;
  if (![...range.options].some((o) => o.value === catchup)) range.add(new Option(`Last ${catchup}`, catchup));
  range.value = catchup;
  $('#range').addEventListener('change', (e) => {
    const q = new URLSearchParams(location.search);
    q.set('catchup', (e.target as HTMLSelectElement).value);
    location.search = String(q);
  });
  let token: string;
  try {
    token = await analyticsToken(project, given);
  } catch (error) {
    $('#status').textContent = 'No access';
    $('#problem').textContent = `${(error as Error).message}. Open this page with ?key=<the project's API key> or ?token=<a token with the analytics permission>.`;
    return;
  }
  const charts = new Charts($('#chart-viewers'), $('#chart-plays'));
  // A fresh token before every reconnect (minted again with the key or in dev mode; a given token as it is).
  const feed = new AnalyticsSubscription({ host: location.host, project, catchup, getToken: () => analyticsToken(project, given).catch(() => token) });
  const status = () => {
    $('#status').textContent = STATUS[feed.state] ?? feed.state;
    $('#status').dataset.state = feed.state;
  };
  feed.socket.addEventListener('statechange', status);
  status();
  let frame = 0;
  feed.onSnapshot = () => {
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      const summary = summarize(feed.series, feed.latest);
      renderKpis(summary);
      renderTables(summary);
      renderData(feed.series);
      charts.draw(feed.series, feed.latest);
      $('#updated').textContent = feed.latest ? `updated ${clock(feed.latest.at)}` : '';
    });
  };
  (window as { vidgetDashboard?: AnalyticsSubscription }).vidgetDashboard = feed;
}

void main();
