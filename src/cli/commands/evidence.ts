/**
 * `lanes evidence verify <dir> [--tree <hash>]`: offline check of an evidence packet. It recomputes every file's
 * sha256 and length, compares them with the packet's MANIFEST (naming files changed, added or missing) and the
 * tree hash with the one the lane reported, if given. No Temporal needed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { MANIFEST_FILE, manifestText, treeHash, type TreeEntry } from '../../domain/tree-hash';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, type Command } from './types';

const help = `lanes evidence verify <dir> [--tree <hash>] [--json]

Recomputes the evidence packet in <dir> and checks it against its MANIFEST and, with --tree, against the tree hash
the lane reported (\`lanes status\`). Exit 0 when intact, 1 on any change, 2 on bad usage.`;

function files(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(root, path) : [relative(root, path)];
  });
}

export const evidenceVerify: Command = {
  summary: 'verify an evidence packet offline (files, MANIFEST, tree hash)',
  help,
  options: { tree: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const dir = positional(positionals, 0, 'dir', help);
    const expected = flags.tree as string | undefined;
    if (expected !== undefined && !/^[0-9a-f]{64}$/.test(expected)) throw new UserError('--tree must be a 64-char lowercase sha256 tree hash', 2);
    let manifest: string;
    try {
      manifest = readFileSync(join(dir, MANIFEST_FILE), 'utf8');
    } catch (err) {
      throw new UserError(`${dir} is not an evidence packet: cannot read its ${MANIFEST_FILE} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
    }
    const entries: TreeEntry[] = files(dir)
      .filter((f) => f !== MANIFEST_FILE)
      .map((path) => {
        const bytes = readFileSync(join(dir, path));
        return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
      });
    const recorded = new Map(manifest.split('\n').filter(Boolean).map((l) => [l.slice(l.indexOf(' ', 65) + 1), l] as const));
    const problems: string[] = [];
    for (const e of entries) {
      const line = recorded.get(e.path);
      if (!line) problems.push(`${e.path}: not in the MANIFEST (added)`);
      else if (line !== `${e.sha256} ${e.bytes} ${e.path}`) problems.push(`${e.path}: content changed`);
      recorded.delete(e.path);
    }
    for (const path of recorded.keys()) problems.push(`${path}: missing`);
    const tree = treeHash(entries);
    if (problems.length === 0 && manifestText(entries) !== manifest) problems.push(`${MANIFEST_FILE}: not in canonical form`);
    if (expected && tree !== expected) problems.push(`tree hash is ${tree}, not ${expected}`);
    if (flags.json) printJson({ intact: problems.length === 0, treeHash: tree, problems });
    else process.stdout.write(problems.length === 0 ? `evidence intact: ${entries.length} files, tree ${tree}\n` : `evidence CHANGED:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return problems.length === 0 ? 0 : 1;
  },
};
