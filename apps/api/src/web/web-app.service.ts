import { existsSync } from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config';

/** Where the built Angular app is, if it has been built (`npm run build:web`). */
@Injectable()
export class WebAppService {
  /** Absolute path of the build folder. */
  readonly root: string;
  /** True when the folder holds an index.html: the app is served at /. */
  readonly available: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.root = path.resolve(config.WEB_DIST_DIR);
    this.available = existsSync(path.join(this.root, 'index.html'));
  }
}
