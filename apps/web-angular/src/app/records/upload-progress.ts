import type { PreparationStep, PreparedActionProgress } from '../shared/action-progress';

/**
 * Where saving a record stands: encrypted in the browser, the ciphertext uploaded, then the signed
 * registration's own steps (see `ActionProgress`). A failure keeps the last step reached.
 */
export type UploadProgress = PreparedActionProgress<UploadRunning, UploadDone>;

type UploadRunning = 'encrypting' | 'uploading';
type UploadDone = 'encrypted' | 'uploaded';

/**
 * The steps before the registration is signed, for `app-action-progress`: Encrypted → Uploaded, then
 * Signed → Sent → Confirmed.
 */
export const UPLOAD_STEPS: readonly PreparationStep<UploadRunning, UploadDone>[] = [
  { running: 'encrypting', done: 'encrypted', label: 'Encrypted', sentence: 'Encrypting in your browser…' },
  {
    running: 'uploading',
    done: 'uploaded',
    label: 'Uploaded',
    sentence: 'Encrypted. Uploading the encrypted file…',
  },
];
