import { ANALYTICS_ROOM, ErrorCode, VidgetError, isValidName, validateVideoFields } from '../../protocol/index.js';
import { backendOnly, bearer, json, readJson, type Handler, type Route } from '../http/http-api.js';
import { authorize } from '../trust/project.js';
import type { Platform } from './platform.js';

/** The video id of a path, checked. */
function videoId(raw: string | undefined): string {
  if (!isValidName(raw)) throw new VidgetError(ErrorCode.BadRequest, 'a video id is 1-64 of A-Z a-z 0-9 _ -');
  return raw;
}

/**
 * The platform's REST routes under `/api/projects/<p>/`: videos (the API key; every change is
 * told live to the project's players) and analytics (the API key, or a token with `analytics`).
 */
export function platformRoutes(platform: Platform): Route[] {
  const listVideos: Handler = async (_ctx, _req, res, _target, _args, call) => {
    json(res, 200, { videos: await platform.videos.list(backendOnly(call).id) });
  };
  const getVideo: Handler = async (_ctx, _req, res, _target, [, id], call) => {
    json(res, 200, await platform.videos.get(backendOnly(call).id, videoId(id)));
  };
  const createVideo: Handler = async (_ctx, req, res, _target, _args, call) => {
    const project = backendOnly(call);
    const body = await readJson(req);
    const fields = validateVideoFields(body, false);
    json(res, 201, await platform.videos.create(project.id, fields, body.id as string | undefined));
  };
  const updateVideo: Handler = async (_ctx, req, res, _target, [, id], call) => {
    const project = backendOnly(call);
    const changes = validateVideoFields(await readJson(req), true);
    json(res, 200, await platform.videos.update(project.id, videoId(id), changes));
  };
  const deleteVideo: Handler = async (_ctx, _req, res, _target, [, id], call) => {
    await platform.videos.remove(backendOnly(call).id, videoId(id));
    json(res, 200, { deleted: id });
  };
  const readAnalytics: Handler = async (_ctx, req, res, target, _args, call) => {
    const { project, trusted } = call!;
    if (!trusted) authorize(await project.identify(bearer(req) ?? target.query.get('token') ?? undefined), project.room(ANALYTICS_ROOM), 'analytics');
    json(res, 200, await platform.analytics.read(project.id, target.query.get('catchup') ?? '30m'));
  };
  return [
    { path: /^\/api\/projects\/([^/]+)\/videos$/, methods: { GET: listVideos, POST: createVideo } },
    { path: /^\/api\/projects\/([^/]+)\/videos\/([^/]+)$/, methods: { GET: getVideo, PATCH: updateVideo, DELETE: deleteVideo } },
    { path: /^\/api\/projects\/([^/]+)\/analytics$/, methods: { GET: readAnalytics } },
  ];
}
