import { readContainedChangeSpec } from '../change-file';
import { printJson } from '../output';
import { JSON_FLAG, positional, type Command } from './types';

const help = 'lanes change validate <spec.json|spec.yaml> [--json]';

export const changeValidate: Command = {
  summary: "check a change spec and its steps' SQL; errors name file, field, line and step",
  help,
  options: { ...JSON_FLAG },
  async run(flags, positionals) {
    const path = positional(positionals, 0, 'spec', help);
    const spec = await readContainedChangeSpec(path);
    if (flags.json) printJson({ ok: true, changeId: spec.id, steps: spec.steps.length });
    else process.stdout.write(`${path}: ok — change ${spec.id}, ${spec.steps.length} step(s)\n`);
    return 0;
  },
};
