import type { SourceInputKind } from '../source-input.js';
import { FileInput } from './file-input.js';
import { FILE_INPUT_SCHEMA, fileUrlToConfig, validateFileInputConfig, type FileInputConfig } from './file-input-config.js';

/** The `file` input kind (`inputs[i].file`, `--input file:///var/log/kern.log`). */
export const fileInputKind: SourceInputKind<FileInputConfig> = {
  type: 'file',
  schema: FILE_INPUT_SCHEMA,
  validate: validateFileInputConfig,
  fromUrl: fileUrlToConfig,
  create: (config, deps) => new FileInput(config, deps),
};
