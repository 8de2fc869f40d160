// PlaybackSync against a <video> whose media events come as a browser sends them: `ratechange` is
// queued as a task after `playbackRate` is set (HTML "queue a media element task"), so a frame
// callback can run between a user's change and its event. Frames are presented by the test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClockSync } from '../../src/watch/clock-sync.js';
import { PlaybackSync } from '../../src/watch/playback-sync.js';

type FrameCallback = (now: number, meta: { mediaTime: number; expectedDisplayTime: number }) => void;

/** A playing video at `position`, whose rate changes fire `ratechange` a task later, and whose frames the test presents. */
function playingVideo() {
  const video = document.createElement('video');
  let rate = 1;
  let frame: FrameCallback | undefined;
  Object.defineProperties(video, {
    readyState: { get: () => 4 },
    paused: { get: () => false },
    seeking: { get: () => false },
    duration: { get: () => 600 },
    currentTime: { get: () => 0, set: () => {} },
    playbackRate: {
      get: () => rate,
      set: (value: number) => {
        rate = value;
        setTimeout(() => video.dispatchEvent(new Event('ratechange')));
      },
    },
    requestVideoFrameCallback: {
      value: (callback: FrameCallback) => {
        frame = callback;
        return 1;
      },
    },
  });
  /** Presents a frame `driftS` ahead of where the group is at its display time. */
  const present = (sync: PlaybackSync, driftS: number) => {
    const display = performance.now() + 16;
    const group = sync.group!;
    const at = group.position + ((performance.timeOrigin + display - group.at) / 1000) * group.rate;
    frame!(display - 16, { mediaTime: at + driftS, expectedDisplayTime: display });
  };
  return { video, present };
}

/** The server's clock, here the page's own (offset 0). */
const clock = { now: () => performance.timeOrigin + performance.now(), toServer: (t: number) => performance.timeOrigin + t } as unknown as ClockSync;
const nextTask = () => new Promise((resolve) => setTimeout(resolve));

test("a user's rate change made just before a frame's drift correction is sent to the group, not undone by the correction", async () => {
  const { video, present } = playingVideo();
  const sent: Array<[string, number]> = [];
  const sync = new PlaybackSync(video, clock, (action, state) => sent.push([action, state.rate]));
  sync.apply({ paused: false, position: 0, rate: 1.25, at: clock.now(), seq: 1 }, false);
  await nextTask();
  // The controller has a full window of frames on time: it holds the group's rate.
  for (let i = 0; i < 9; i++) present(sync, 0);
  assert.equal(video.playbackRate, 1.25);
  assert.deepEqual(sent, []);

  video.playbackRate = 1; // the user, in the controls
  present(sync, 0); // a frame before the change's ratechange event
  await nextTask();
  assert.equal(video.playbackRate, 1, 'the user’s rate stays');
  assert.deepEqual(sent, [['rate', 1]], 'and goes to the group');

  // Corrections go on from the new rate, and are never sent.
  sync.apply({ paused: false, position: 0, rate: 1, at: clock.now(), seq: 2 }, true);
  for (let i = 0; i < 9; i++) present(sync, 0.05);
  await nextTask();
  assert.ok(video.playbackRate < 1 && video.playbackRate >= 0.92, `a page 50 ms ahead slows down a little: ${video.playbackRate}`);
  assert.deepEqual(sent, [['rate', 1]]);
  sync.stop();
});
