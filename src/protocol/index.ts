/** The wire contract shared by the browser and the server. */
export { ErrorCode, CloseCode, FATAL_CLOSE_CODES, VidgetError } from './errors.js';
export type { Json, VidgetRecord } from './record.js';
export { isValidName, isValidRoom, parseInterval, MAX_CATCHUP_MS } from './names.js';
export { CONNECT_PARAM, parseConnectParams } from './connect-params.js';
export type { ConnectParams } from './connect-params.js';
export { MAX_LIMIT, MAX_OFFSET, parseField, validateQuery } from './query.js';
export type { ColumnName, FieldRef, FilterOperator, FilterScalar, SearchFilter, SearchGroup, SearchQuery, ValidFilter, ValidQuery } from './query.js';
export { PROTOCOL_VERSION, frameRef, parseClientFrame } from './frames.js';
export type {
  AckFrame,
  ClientFrame,
  DeletedFrame,
  DeleteFrame,
  ErrorFrame,
  HelloFrame,
  MessageFrame,
  PresenceFrame,
  PublishFrame,
  RefreshedFrame,
  RefreshFrame,
  ResultFrame,
  SearchFrame,
  ServerFrame,
  ServerLimits,
  SyncedFrame,
} from './frames.js';
export { TokenBucket } from './token-bucket.js';
export { ANALYTICS_ROOM, PROJECT_ROOM, VIDEO_STATUSES, completionRate, countedSnapshots, mergeSnapshots, validateVideoFields } from './platform.js';
export type { AnalyticsReport, AnalyticsSnapshot, Video, VideoFields, VideoNotification, VideoStatus } from './platform.js';
export { parseWatchFrame, positionAt } from './watch-frames.js';
export type {
  AnswerFrame,
  ControlAction,
  ControlFrame,
  ControlMode,
  IceServer,
  InviteAnswer,
  InviteFrame,
  JoinFrame,
  MediaFrame,
  PlaybackState,
  SignalFrame,
  WatchClientFrame,
  WatchServerFrame,
  WireParticipant,
} from './watch-frames.js';
