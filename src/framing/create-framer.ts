import { AutoDetectFramer } from './auto-detect.js';
import { DelimitedFramer } from './delimited.js';
import type { Framer, FramerOptions, FramingMode } from './framer.js';
import { OctetCountingFramer } from './octet-counting.js';

/** Create the framer for a listener's `framing` mode (`auto`, `lf`, `nul`, `octet`). */
export function createFramer(mode: FramingMode, options: FramerOptions = {}): Framer {
  switch (mode) {
    case 'auto':
      return new AutoDetectFramer(options);
    case 'lf':
      return new DelimitedFramer({ ...options, delimiter: 'lf' });
    case 'nul':
      return new DelimitedFramer({ ...options, delimiter: 'nul' });
    case 'octet':
      return new OctetCountingFramer(options);
  }
}
