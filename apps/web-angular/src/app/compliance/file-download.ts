import { InjectionToken } from '@angular/core';

/** Hands a file to the browser's downloads: a Blob behind an object URL, clicked as a link. */
export type SaveFile = (blob: Blob, filename: string) => void;

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked after the click has been handled (the download keeps its own reference).
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** How files are saved (tests provide a spy). */
export const SAVE_FILE = new InjectionToken<SaveFile>('SAVE_FILE', {
  providedIn: 'root',
  factory: () => saveBlob,
});

/**
 * `custos-audit-20260312-140501.csv`: the export's name (`name`, default `custos-audit`), stamped with
 * the local time.
 */
export function exportFilename(extension: string, now = new Date(), name = 'custos-audit'): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}` +
    `-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `${name}-${stamp}.${extension}`;
}
