/**
 * `lanes evidence verify <dir> [--tree <hash>]`: offline check of an evidence packet. It recomputes every file's
 * sha256 and length, compares them with the packet's MANIFEST (naming files changed, added or missing) and the
 * tree hash with the one the lane reported, if given. No Temporal needed.
 */
import { MANIFEST_FILE } from '../../domain/tree-hash';
import { verifyEvidenceDir } from '../../activities/evidence';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, type Command } from './types';

const help = `lanes evidence verify <dir> [--tree <hash>] [--json]

Recomputes the evidence packet in <dir> and checks it against its MANIFEST and, with --tree, against the tree hash
the lane reported (\`lanes status\`). Exit 0 when intact, 1 on any change, 2 on bad usage.`;

export const evidenceVerify: Command = {
  summary: 'verify an evidence packet offline (files, MANIFEST, tree hash)',
  help,
  options: { tree: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const dir = positional(positionals, 0, 'dir', help);
    const expected = flags.tree as string | undefined;
    if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) throw new UserError('--tree must be a 64-char lowercase sha256 tree hash', 2);
    let checked: ReturnType<typeof verifyEvidenceDir>;
    try {
      checked = verifyEvidenceDir(dir);
    } catch (err) {
      throw new UserError(`${dir} is not an evidence packet: cannot read its ${MANIFEST_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
    }
    const { treeHash: tree, files, problems } = checked;
    if (expected && tree !== expected) problems.push(`tree hash is ${tree}, not ${expected}`);
    if (flags.json) printJson({ intact: problems.length === 0, treeHash: tree, problems });
    else process.stdout.write(problems.length === 0 ? `evidence intact: ${files} files, tree ${tree}\n` : `evidence CHANGED:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
