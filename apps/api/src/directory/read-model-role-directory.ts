import { Inject, Injectable } from '@nestjs/common';
import type { Role } from '@custos/domain';
import { RoleDirectory } from '../auth/role-directory';
import type { DirectoryDocument } from '../projections/read-models';
import { READ_MODEL_STORE } from '../read-models/read-models.module';
import type { ReadModelStore } from '../read-models/read-model.port';

/** Roles as the chain states them now, from the directory read model (mirrored role events). */
@Injectable()
export class ReadModelRoleDirectory extends RoleDirectory {
  constructor(@Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore) {
    super();
  }

  async rolesOf(address: string): Promise<readonly Role[]> {
    return (await this.readModels.get<DirectoryDocument>('directory', address))?.roles ?? [];
  }
}
