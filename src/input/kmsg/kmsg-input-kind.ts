import type { SourceInputKind } from '../source-input.js';
import { KMSG_INPUT_DEFAULTS, kmsgConfigFromUrl, validateKmsgInputConfig, type KmsgInputConfig } from './kmsg-config.js';
import { KmsgInput } from './kmsg-input.js';

/** `inputs[i].kmsg` / `--input kmsg://`: the kernel log ring buffer. */
export const kmsgInputKind: SourceInputKind<KmsgInputConfig> = {
  type: 'kmsg',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, default: KMSG_INPUT_DEFAULTS.name, description: 'Checkpoint file and metric label; unique.' },
      device: { type: 'string', minLength: 1, default: KMSG_INPUT_DEFAULTS.device, description: 'The kernel log device.' },
      prefixes: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
        description: 'Only netfilter lines whose log prefix (the text before IN=) starts with one of these. Default: every line with a netfilter shape.',
      },
      startAt: { enum: ['beginning', 'end'], default: KMSG_INPUT_DEFAULTS.startAt, description: 'Without any checkpoint (first start): read what the ring holds (beginning) or only new lines (end). After a reboot: always the beginning.' },
      pollInterval: { $ref: '#/$defs/duration', default: KMSG_INPUT_DEFAULTS.pollIntervalMs, description: 'Once the ring is read to its end, look again after this long.' },
      maxInFlight: { type: 'integer', minimum: 1, default: KMSG_INPUT_DEFAULTS.maxInFlight, description: 'Records read and not yet acknowledged by every output above which reading pauses.' },
    },
  },
  validate: validateKmsgInputConfig,
  fromUrl: kmsgConfigFromUrl,
  create: (config, deps) => new KmsgInput(config, deps),
};
