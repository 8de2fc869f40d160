/// <reference types="vite/client" />
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { countedSnapshots, type AnalyticsSnapshot } from '../../src/protocol/platform.js';

const ACCENT = '#2f6bff';

/** The width inside a card's padding (uPlot draws at the size it is given). */
function contentWidth(box: HTMLElement): number {
  const style = getComputedStyle(box);
  return Math.max(200, box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight));
}
const PLAYS = '#12b886';

/** Clock times under the x axis, one short line (uPlot's default adds a date line the card clips): `14:05`, or `05:30` (minutes:seconds) on spans under 10 minutes. */
function timeLabels(u: uPlot, splits: number[]): string[] {
  const short = (u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0) < 600;
  const two = (n: number) => String(n).padStart(2, '0');
  return splits.map((t) => {
    const d = new Date(t * 1000);
    return short ? `${two(d.getMinutes())}:${two(d.getSeconds())}` : `${two(d.getHours())}:${two(d.getMinutes())}`;
  });
}

/** uPlot's options for one chart of the dashboard (time on x, one series). */
function options(title: string, label: string, colour: string, width: number, bars: boolean): uPlot.Options {
  return {
    title,
    width,
    height: 220,
    cursor: { drag: { x: false, y: false } },
    legend: { show: false },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.2))] } },
    axes: [
      { stroke: '#6b7280', grid: { stroke: '#eef0f4' }, values: timeLabels, space: 56 },
      { stroke: '#6b7280', grid: { stroke: '#eef0f4' }, size: 40 },
    ],
    series: [
      {},
      bars
        ? { label, stroke: colour, fill: `${colour}55`, paths: uPlot.paths.bars!({ size: [0.7, 24] }), points: { show: false } }
        : { label, stroke: colour, width: 2, fill: `${colour}22`, points: { show: false }, paths: uPlot.paths.stepped!({ align: 1 }) },
    ],
  };
}

/** The dashboard's two charts: concurrent viewers (stepped line) and plays per bucket (bars). */
export class Charts {
  private readonly viewers: uPlot;
  private readonly plays: uPlot;

  constructor(
    private readonly viewersBox: HTMLElement,
    private readonly playsBox: HTMLElement,
  ) {
    this.viewers = new uPlot(options('Concurrent viewers', 'viewers', ACCENT, contentWidth(viewersBox), false), [[], []], viewersBox);
    this.plays = new uPlot(options('Plays', 'plays', PLAYS, contentWidth(playsBox), true), [[], []], playsBox);
    new ResizeObserver(() => this.resize()).observe(viewersBox);
  }

  /** Draws the series and, as its last point, the bucket in progress. */
  draw(series: readonly AnalyticsSnapshot[], latest: AnalyticsSnapshot | undefined): void {
    const all = countedSnapshots(series, latest);
    const x = all.map((s) => s.at / 1000);
    this.viewers.setData([x, all.map((s) => s.concurrentViewers)]);
    this.plays.setData([x, all.map((s) => s.plays)]);
  }

  private resize(): void {
    this.viewers.setSize({ width: contentWidth(this.viewersBox), height: 220 });
    this.plays.setSize({ width: contentWidth(this.playsBox), height: 220 });
  }
}
