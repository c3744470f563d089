import type { SourceInputKind } from '../source-input.js';
import { JournaldInput } from './journald-input.js';
import { JOURNALD_INPUT_SCHEMA, journaldUrlToConfig, validateJournaldInputConfig, type JournaldInputConfig } from './journald-input-config.js';

/** The `journald` input kind (`inputs[i].journald`, `--input journald://`). */
export const journaldInputKind: SourceInputKind<JournaldInputConfig> = {
  type: 'journald',
  schema: JOURNALD_INPUT_SCHEMA,
  validate: validateJournaldInputConfig,
  fromUrl: journaldUrlToConfig,
  create: (config, deps) => new JournaldInput(config, deps),
};
