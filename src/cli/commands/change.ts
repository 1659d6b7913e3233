import { readChangeSpec } from '../change-file';
import { printJson } from '../output';
import { JSON_FLAG, positional, type Command } from './types';

const help = 'lanes change validate <spec.json|spec.yaml> [--json]';

export const changeValidate: Command = {
  summary: 'check a change spec; errors name file, field and line',
  help,
  options: { ...JSON_FLAG },
  async run(flags, positionals) {
    const path = positional(positionals, 0, 'spec', help);
    const spec = readChangeSpec(path);
    if (flags.json) printJson({ ok: true, changeId: spec.id, steps: spec.steps.length });
    else process.stdout.write(`${path}: ok — change ${spec.id}, ${spec.steps.length} step(s)\n`);
    return 0;
  },
};
