// Extra Vitest settings for `ng test --project web-angular`. The Angular unit-test builder owns
// test discovery, the build and the TestBed setup; this file only pins the DOM environment.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'jsdom',
  },
});
