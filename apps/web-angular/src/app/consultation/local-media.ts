import type { ConsultationMode } from './consultation-api';

/** The camera and microphone this person joins with, and what went wrong, in plain words. */
export interface LocalMedia {
  /** `null` when neither could be opened: the call then only receives. */
  readonly stream: MediaStream | null;
  readonly hasAudio: boolean;
  readonly hasVideo: boolean;
  /** A sentence to show when a device could not be used (empty when all went well). */
  readonly problem: string;
}

type GetUserMedia = (constraints: MediaStreamConstraints) => Promise<MediaStream>;

/**
 * Opens the microphone and, for a video consultation, the camera. When both cannot be had, tries
 * the microphone alone, then the camera alone, so a missing or busy camera never keeps someone out of
 * the call; what could not be opened is said in `problem`.
 */
export async function openLocalMedia(
  mode: ConsultationMode,
  getUserMedia: GetUserMedia | null = defaultGetUserMedia(),
): Promise<LocalMedia> {
  if (!getUserMedia) {
    return none(
      'This browser cannot use a camera or microphone on this page (it needs a secure https:// address). Others will not see or hear you.',
    );
  }
  const attempts: MediaStreamConstraints[] =
    mode === 'video' ? [{ audio: true, video: true }, { audio: true }, { video: true }] : [{ audio: true }];
  let first: unknown = null;
  for (const constraints of attempts) {
    try {
      const stream = await getUserMedia(constraints);
      const hasAudio = stream.getAudioTracks().length > 0;
      const hasVideo = stream.getVideoTracks().length > 0;
      const missing =
        mode === 'video' && !hasVideo
          ? `Your camera could not be used${because(first)}. Others can hear you but not see you.`
          : !hasAudio
            ? `Your microphone could not be used${because(first)}. Others can see you but not hear you.`
            : '';
      return { stream, hasAudio, hasVideo, problem: missing };
    } catch (error) {
      first ??= error;
      // Refused by the person: asking again for less would only show the same refusal.
      if (errorName(error) === 'NotAllowedError') break;
    }
  }
  return none(
    `Your ${mode === 'video' ? 'camera and microphone' : 'microphone'} could not be used${because(first)}. Others will not ${mode === 'video' ? 'see or hear' : 'hear'} you, but you can still follow the call.`,
  );
}

/** Stops every track (turns the camera light off). */
export function stopMedia(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

function none(problem: string): LocalMedia {
  return { stream: null, hasAudio: false, hasVideo: false, problem };
}

function defaultGetUserMedia(): GetUserMedia | null {
  const devices = globalThis.navigator?.mediaDevices;
  return devices?.getUserMedia ? (constraints) => devices.getUserMedia(constraints) : null;
}

function errorName(error: unknown): string {
  return error && typeof error === 'object' && 'name' in error ? String(error.name) : '';
}

function because(error: unknown): string {
  switch (errorName(error)) {
    case 'NotAllowedError':
      return ": you did not allow it (allow it in your browser's site settings, then join again)";
    case 'NotFoundError':
    case 'OverconstrainedError':
      return ': none was found on this device';
    case 'NotReadableError':
      return ': another application is using it';
    default:
      return '';
  }
}
