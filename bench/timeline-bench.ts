// The widget host's cue timeline at 1,000 widgets: cost per playhead update, beside a full scan
// of every cue per update (what a naive host does), in the same process.
import { Timeline, type Cue } from '../src/host/timeline.js';

export interface TimelineFigures {
  cues: number;
  updates: number;
  timelineNsPerUpdate: number;
  scanNsPerUpdate: number;
}

export function timelineBench({ cues: n = 1000, seconds = 3600 } = {}): TimelineFigures {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cues: Cue[] = Array.from({ length: n }, () => {
    const start = rand() * seconds;
    return { start, end: start + 5 + rand() * 60 };
  });
  // 60 fps for the whole video, with a seek every 100 frames.
  const times: number[] = [];
  for (let t = 0, i = 0; t < seconds; i++) times.push((t = i % 100 === 99 ? rand() * seconds : t + 1 / 60));
  const timeline = new Timeline<Cue>();
  for (const c of cues) timeline.add(c);
  let changes = 0;
  let start = performance.now();
  for (const t of times) {
    const c = timeline.seek(t);
    changes += c.entered.length + c.exited.length;
  }
  const timelineMs = performance.now() - start;
  // Baseline: scan every cue, diff with the previous active set.
  let active = new Set<Cue>();
  let scanChanges = 0;
  start = performance.now();
  for (const t of times) {
    const now = new Set<Cue>();
    for (const c of cues) if (c.start <= t && t < c.end) now.add(c);
    for (const c of now) if (!active.has(c)) scanChanges++;
    for (const c of active) if (!now.has(c)) scanChanges++;
    active = now;
  }
  const scanMs = performance.now() - start;
  if (changes !== scanChanges) throw new Error(`timeline and scan disagree: ${changes} vs ${scanChanges} changes`);
  return { cues: n, updates: times.length, timelineNsPerUpdate: (timelineMs * 1e6) / times.length, scanNsPerUpdate: (scanMs * 1e6) / times.length };
}
