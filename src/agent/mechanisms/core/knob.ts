// A knob is one cgroup file, named by its file name: that name is what reports, metrics and the original-values
// record use, and what restoring a record looks the codec up by.
import type { Controller } from '../../cgroup/layout.ts';
import type { Codec } from './codecs.ts';

export interface Knob<T> {
  readonly file: string;
  readonly controller: Controller;
  readonly codec: Codec<T>;
}

export function knob<T>(file: string, controller: Controller, codec: Codec<T>): Knob<T> {
  return { file, controller, codec };
}
