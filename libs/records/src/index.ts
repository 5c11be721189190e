export {
  contentAddress,
  isContentAddress,
  recordIdOf,
  KUBO_CID_V1_ADD,
  unixfsFile,
  type UnixfsFile,
  type UnixfsImportSettings,
} from './content-address';
