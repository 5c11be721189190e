// Extra Vitest settings for `ng test --project web-angular`. The Angular unit-test builder owns
// test discovery, the build and the TestBed setup; this file pins the DOM environment and adds a
// setup file that smooths two jsdom gaps (see src/test-setup.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'jsdom',
    setupFiles: [fileURLToPath(new URL('./src/test-setup.ts', import.meta.url))],
  },
});
