// The TrtcSigner's thread: signs each grant it is sent with the settings it was started with.
import { parentPort, workerData } from 'node:worker_threads';
import { signTrtc, type TrtcGrant, type TrtcSettings } from './trtc';

const settings = workerData as TrtcSettings;
parentPort?.on('message', ({ id, grant }: { id: number; grant: TrtcGrant }) => {
  try {
    parentPort?.postMessage({ id, signed: signTrtc(settings, grant) });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
