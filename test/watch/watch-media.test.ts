import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { BuiltPage } from '../helpers/built-page.js';
import { playerReady, read, sleep, waitFor, watchPage, wt } from './watch-helpers.js';

let site: BuiltPage;

before(async () => {
  site = await watchPage({ watch: { meshLimit: 2 } });
});
after(() => site.close());

/** Three pages in one session; returns them with their participant ids. */
async function threeInSession(): Promise<{ pages: Page[]; pids: string[] }> {
  const pages = await site.viewers(3);
  await Promise.all(pages.map(playerReady));
  const first = await wt<{ sid: string; pid: string }>(pages[0]!, 'join', { displayName: 'A', backgroundPauseMs: 100 });
  const pids = [first.pid];
  for (const [i, page] of pages.slice(1).entries()) pids.push((await wt<{ pid: string }>(page, 'join', { sessionId: first.sid, displayName: `P${i + 1}`, backgroundPauseMs: 100 })).pid);
  await waitFor(pages[0]!, 'session.participants.length === 3');
  return { pages, pids };
}

test('camera and microphone flow both ways over the mesh (frames decoded > 0 in getStats), the active speaker follows the page sending audio, past the mesh limit media is refused', async () => {
  const { pages, pids } = await threeInSession();
  const [a, b, c] = pages as [Page, Page, Page];
  assert.equal(await wt(a, 'media', 'enableVideo'), 'ok');
  assert.equal(await wt(b, 'media', 'enableVideo'), 'ok');
  // Both ways: b decodes a's camera and a decodes b's; c (no media) receives both.
  await waitFor(b, `quality['${pids[0]}']?.framesDecoded > 0`, 20_000);
  await waitFor(a, `quality['${pids[1]}']?.framesDecoded > 0`, 20_000);
  await waitFor(c, `quality['${pids[0]}']?.framesDecoded > 0 && wt.quality['${pids[1]}']?.framesDecoded > 0`, 20_000);
  const q = await read<{ framesDecoded: number; fps: number; bitrate: number; rtt: number; level: string }>(c, `quality['${pids[0]}']`);
  console.log(`media a→c: ${q.framesDecoded} frames decoded, ${q.fps} fps, ${(q.bitrate / 1000).toFixed(0)} kbit/s, rtt ${q.rtt} ms, ${q.level}`);
  assert.ok((await read<number>(c, `session.streamOf('${pids[0]}').getVideoTracks().length`)) === 1, 'a stream to show');
  // The mesh limit here is 2 participants with media: the third is refused and stays view-only.
  assert.equal(await wt(c, 'media', 'enableAudio'), 'mesh_full');
  assert.ok((await read<Array<{ type: string; code?: string }>>(c, 'events')).some((e) => e.type === 'error' && e.code === 'mesh_full'));
  assert.equal(await read(c, 'session.participants.find((p) => p.local).audioEnabled'), false);

  // Active speaker: a sends audio (the fake device's tone); b and c see a speaking.
  assert.equal(await wt(a, 'media', 'enableAudio'), 'ok');
  await waitFor(c, `session.activeSpeaker === '${pids[0]}'`, 20_000);
  await waitFor(b, `session.activeSpeaker === '${pids[0]}'`, 20_000);
  // Then a is muted and b speaks: the speaker follows.
  assert.equal(await wt(a, 'media', 'disableAudio'), 'ok');
  assert.equal(await wt(b, 'media', 'enableAudio'), 'ok');
  await waitFor(c, `session.activeSpeaker === '${pids[1]}'`, 20_000);
  await waitFor(a, `session.activeSpeaker === '${pids[1]}'`, 20_000);
  assert.ok((await read<Array<{ type: string }>>(c, 'events')).some((e) => e.type === 'activespeakerchange'));
  // A dropped watch connection does not cut the media: frames keep coming once it is back.
  const before = await read<number>(b, `quality['${pids[0]}'].framesDecoded`);
  assert.equal(await wt(a, 'dropConnection'), 1);
  await waitFor(a, "hooks.includes('connected')");
  await waitFor(b, `quality['${pids[0]}'].framesDecoded > ${before + 24}`, 20_000);
  // setVideoQuality maps to the sender's encoding: of the camera's 640 px, 'medium' (the default) sends half, 'low' a quarter.
  assert.equal(await read(b, `quality['${pids[0]}'].frameWidth`), 320);
  assert.equal(await wt(a, 'media', 'setVideoQuality', 'low'), 'ok');
  await waitFor(b, `quality['${pids[0]}'].frameWidth === 160`, 20_000);
});

test('a screen share arrives at the others; a page in a call stays connected in the background, one without pauses', async () => {
  const { pages, pids } = await threeInSession();
  const [a, b] = pages as [Page, Page, Page];
  await a.click('#share');
  await waitFor(a, 'shared !== undefined', 15_000);
  assert.equal(await read(a, 'shared'), 'ok');
  await waitFor(b, `session.participants.find((p) => p.id === '${pids[0]}')?.screenEnabled === true`);
  await waitFor(b, `quality['${pids[0]}']?.framesDecoded > 0`, 20_000);
  // Hidden: b (no media) pauses after its 100 ms; a, sharing its screen, is in a call and stays.
  await Promise.all([a, b].map((p) => wt(p, 'setVisibility', 'hidden')));
  await waitFor(b, "session.state === 'paused'");
  await sleep(500); // five times the pause delay: a would have paused by now
  assert.equal(await read(a, 'session.state'), 'running');
  await wt(b, 'setVisibility', 'visible');
  await waitFor(b, "session.state === 'running'");
});
