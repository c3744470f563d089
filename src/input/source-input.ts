import type { AckRouter } from './ack-router.js';
import type { CheckpointStore } from './checkpoint-store.js';
import type { Input } from './input.js';
import type { InputDeps } from './input-deps.js';

/**
 * What every config of an input with a local, durable source (kmsg, journald, file) has.
 * Such inputs keep a checkpoint and advance it on the outputs' acknowledgements.
 */
export interface SourceInputConfigBase {
  /** Checkpoint file name and metric label; the kind picks a default (`kmsg://`); unique per service. */
  name: string;
}

/** What a source input's factory gets besides its config. */
export interface SourceInputDeps extends InputDeps {
  /** Where the input keeps its checkpoint (`<stateDirectory>/checkpoints`). */
  checkpoints: CheckpointStore;
  /** Where the input registers its `AckTracker`: the service routes acknowledgements through it. */
  acks: AckRouter;
}

/**
 * One kind of source input, as `src/input/source-kinds.ts` registers it: its config schema,
 * validation, `--input URL` form and factory. Config and CLI dispatch on `type` through the
 * registry, so a new kind touches no shared code beyond its registry line.
 */
export interface SourceInputKind<C extends SourceInputConfigBase = SourceInputConfigBase> {
  /** Config key (`inputs[i].<type>`) and URL scheme: `kmsg`, `journald`, `file`. */
  readonly type: string;
  /**
   * JSON-Schema fragment of the object under `inputs[i].<type>` (`properties` with description and
   * default, `additionalProperties: false`). schema.ts embeds it; `$ref: '#/$defs/duration'` and
   * `'#/$defs/size'` are available.
   */
  readonly schema: Record<string, unknown>;
  /**
   * The config from the YAML object (or `fromUrl`'s output), defaults filled in. Throws
   * `InputConfigError` whose key is `${path}.${key}` (`path` is e.g. `inputs[2].kmsg`).
   */
  validate(raw: unknown, path: string): C;
  /** The raw config object of an `--input URL` (`kmsg://?prefixes=FW-`); throws `ListenUrlError`. */
  fromUrl(url: string): Record<string, unknown>;
  /** Build the input; it touches its source only in `start()`. */
  create(config: C, deps: SourceInputDeps): Input;
}
