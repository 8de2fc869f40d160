/** What `setVideoQuality()` takes. */
export type VideoQuality = 'low' | 'medium' | 'high';

/** Each level as the sender's encoding: a bitrate cap and a resolution scale-down. */
export const VIDEO_ENCODINGS: Record<VideoQuality, { maxBitrate: number; scaleResolutionDownBy: number; maxFramerate: number }> = {
  low: { maxBitrate: 150_000, scaleResolutionDownBy: 4, maxFramerate: 15 },
  medium: { maxBitrate: 500_000, scaleResolutionDownBy: 2, maxFramerate: 24 },
  high: { maxBitrate: 1_500_000, scaleResolutionDownBy: 1, maxFramerate: 30 },
};

/** Applies a level to one video sender (no renegotiation: encoding parameters only). */
export async function applyVideoQuality(sender: RTCRtpSender, quality: VideoQuality): Promise<void> {
  const parameters = sender.getParameters();
  if (!parameters.encodings?.length) parameters.encodings = [{}];
  Object.assign(parameters.encodings[0]!, VIDEO_ENCODINGS[quality]);
  await sender.setParameters(parameters);
}
