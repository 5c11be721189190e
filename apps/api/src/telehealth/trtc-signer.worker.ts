// The TrtcSigner's thread: signs each grant it is sent with the settings it was started with.
import { parentPort, workerData } from 'node:worker_threads';
import { signTrtc, type TrtcSettings } from './trtc';
import type { FromSigner, ToSigner } from './trtc-signer';

const settings = workerData as TrtcSettings;
parentPort?.on('message', (batch: ToSigner) => {
  const answers: FromSigner = batch.map(({ id, grant }) => {
    try {
      return { id, signed: signTrtc(settings, grant) };
    } catch (error) {
      return { id, error: error instanceof Error ? error.message : String(error) };
    }
  });
  parentPort?.postMessage(answers);
});
