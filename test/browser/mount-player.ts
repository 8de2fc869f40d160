import type { PlayerErrorEvent, VidgetPlayer } from '../../src/index.js';
import { until } from '../helpers/wait.js';
import { nextEvent, type TestEnv } from './test-env.js';

/**
 * Adds a `<vidget-player>` for `project` to the page around the test clip, with `config` inline,
 * and waits until the video has its metadata and the player its api. Errors it reports are
 * collected in `errors`.
 */
export async function mountPlayer(env: TestEnv, project: string, config: unknown[]): Promise<{ player: VidgetPlayer; video: HTMLVideoElement; errors: PlayerErrorEvent[] }> {
  const player = document.createElement('vidget-player') as VidgetPlayer;
  player.setAttribute('project', project);
  player.setAttribute('server', `ws://${env.host}`);
  const errors: PlayerErrorEvent[] = [];
  player.addEventListener('error', (e) => errors.push(e as PlayerErrorEvent));
  const video = document.createElement('video');
  // From the Vidget server, which answers Range requests (the runner's file server does not, and
  // a video without them can only seek within what it has buffered).
  video.src = `${env.http}/clip.webm`;
  video.muted = true;
  video.preload = 'auto';
  const script = document.createElement('script');
  script.type = 'application/json';
  script.textContent = JSON.stringify(config);
  player.append(video, script);
  document.body.append(player);
  await player.updateComplete;
  if (video.readyState < 1) await nextEvent(video, 'loadedmetadata');
  await until(() => player.playerApi !== undefined);
  return { player, video, errors };
}
