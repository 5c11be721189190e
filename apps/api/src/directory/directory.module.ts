import { Module } from '@nestjs/common';
import { DirectoryController, SetProfileHandler } from './directory.controller';

@Module({ controllers: [DirectoryController], providers: [SetProfileHandler] })
export class DirectoryModule {}
