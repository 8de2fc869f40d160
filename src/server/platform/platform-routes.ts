import type { IncomingMessage } from 'node:http';
import { ANALYTICS_ROOM, ErrorCode, PROJECT_ROOM, VidgetError, isValidName, validateVideoFields } from '../../protocol/index.js';
import { backendOnly, bearer, json, readJson, type Handler, type ProjectCall, type Route } from '../http/http-api.js';
import type { RequestTarget } from '../http/request-target.js';
import type { Action } from '../trust/permissions.js';
import { authorize, type Project } from '../trust/project.js';
import type { Platform } from './platform.js';

/** The video id of a path, checked. */
function videoId(raw: string | undefined): string {
  if (!isValidName(raw)) throw new VidgetError(ErrorCode.BadRequest, 'a video id is 1-64 of A-Z a-z 0-9 _ -');
  return raw;
}

/** A read by the site's backend (the API key), or by a viewer allowed `action` in `room` (a token as `Bearer` or `?token=`, or none where the project lets viewers in). */
async function reader(req: IncomingMessage, target: RequestTarget, call: ProjectCall, room: string, action: Action): Promise<Project> {
  if (!call.trusted) authorize(await call.project.identify(bearer(req) ?? target.query.get('token') ?? undefined), call.project.room(room), action);
  return call.project;
}

/**
 * The platform's REST routes under `/api/projects/<p>/`: videos (written with the API key, every
 * change told live to the project's players; read by them too) and analytics (the API key, or a
 * token with `analytics`).
 */
export function platformRoutes(platform: Platform): Route[] {
  const listVideos: Handler = async (_ctx, req, res, target, _args, call) => {
    json(res, 200, { videos: await platform.videos.list((await reader(req, target, call!, PROJECT_ROOM, 'read')).id) });
  };
  const getVideo: Handler = async (_ctx, req, res, target, [, id], call) => {
    json(res, 200, await platform.videos.get((await reader(req, target, call!, PROJECT_ROOM, 'read')).id, videoId(id)));
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
    const project = await reader(req, target, call!, ANALYTICS_ROOM, 'analytics');
    json(res, 200, await platform.analytics.read(project.id, target.query.get('catchup') ?? '30m'));
  };
  return [
    { path: /^\/api\/projects\/([^/]+)\/videos$/, methods: { GET: listVideos, POST: createVideo } },
    { path: /^\/api\/projects\/([^/]+)\/videos\/([^/]+)$/, methods: { GET: getVideo, PATCH: updateVideo, DELETE: deleteVideo } },
    { path: /^\/api\/projects\/([^/]+)\/analytics$/, methods: { GET: readAnalytics } },
  ];
}
