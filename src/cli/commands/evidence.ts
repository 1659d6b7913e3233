/**
 * `lanes evidence verify <dir> [--tree <hash>]`: offline check of an evidence packet. It recomputes every file's
 * sha256 and length, compares them with the packet's MANIFEST (naming files changed, added or missing) and the
 * tree hash with the one the lane reported, if given. No Temporal needed.
 *
 * `lanes evidence pull <workflowId|tree> <dir>`: copies a packet out of the evidence stores (LANES_HOME, and the
 * shared store LANES_EVIDENCE_URL names) into a new directory, verified, so `verify` and the coreutils recipe work
 * on it offline. A workflow id is found through the stores, not through Temporal: pulling needs no Temporal server.
 * From the shared store only what a worker of LANES_TRUST_ROOT attested counts (anyone with its URL can write there):
 * a workflow id means the newest tree a worker attested as that workflow's, and a tree with no verifiable
 * attestation is refused (exit 1) unless --unattested takes it as bytes, with a warning.
 */
import { readdirSync } from 'node:fs';
import { MANIFEST_FILE } from '../../domain/tree-hash';
import { verifyEvidenceDir, writePacketDir } from '../../evidence/local-store';
import { packetOf, TREE_HASH } from '../../evidence/packet';
import { configFromEnv } from '../../worker/config';
import { cliTrustRoot, openCliEvidence } from '../evidence-access';
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

const pullHelp = `lanes evidence pull <workflowId|tree> <dir> [--unattested] [--json]

Copies an evidence packet into <dir>, a new (or empty) directory, from this machine's LANES_HOME or, when
LANES_EVIDENCE_URL is set, from the shared evidence store every worker publishes to. From the shared store a packet
counts only when a worker listed in the trust root (LANES_TRUST_ROOT, needed then) attested it, and the pull prints
who did: a workflow id means the newest packet a worker attested as that workflow's; a 64-char tree hash means
exactly that packet, and one that no worker of the trust root attested is refused — NOT ATTESTED — unless
--unattested copies it anyway, with a warning (its bytes match the tree; nothing says a lane produced them).
Every file is checked against the tree before anything is renamed into place, so <dir> either holds a packet that
verifies or does not exist: \`lanes evidence verify <dir> --tree <tree>\` and the README's coreutils recipe then
work offline. Exit 0 when pulled, 1 when the packet cannot be found, does not verify or is not attested, 2 on bad usage.`;

export const evidencePull: Command = {
  summary: 'copy an evidence packet (by workflow id or tree) out of the stores, verified',
  help: pullHelp,
  options: { unattested: { type: 'boolean' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const arg = positional(positionals, 0, 'workflowId|tree', pullHelp);
    const dir = positional(positionals, 1, 'dir', pullHelp);
    let existing: string[] = [];
    try {
      existing = readdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw new UserError(`${dir} cannot be used as the packet's directory (${code ?? (err as Error).message}); name a new directory`, 2);
    }
    if (existing.length > 0) throw new UserError(`${dir} already exists and is not empty; pull into a new directory (nothing was written)`, 2);
    const cfg = configFromEnv();
    const evidence = openCliEvidence(cfg);
    try {
      const trustRoot = await cliTrustRoot(cfg);
      const stores = evidence.stores;
      const searched = `${stores.lanesHome}${stores.shared ? ` and the shared evidence store (${stores.shared.label})` : ' (LANES_EVIDENCE_URL is not set, so no shared evidence store was asked)'}`;
      let tree = arg;
      if (!TREE_HASH.test(arg)) {
        // Only trees a worker of the trust root attested as this workflow's: anyone can index a row under any id.
        const [latest] = await stores.treesOf(arg, trustRoot);
        if (!latest) throw new UserError(`no evidence packet${stores.shared ? ' attested by a worker of the trust root' : ''} is indexed under workflow id "${arg}" in ${searched}; check the id (\`lanes list\`), or pull by the tree hash \`lanes status\` shows`);
        tree = latest.tree;
      }
      const found = await stores.resolve(tree, { trustRoot, unattested: flags.unattested === true });
      if ('problem' in found) throw new UserError(`cannot pull evidence tree ${tree}: ${found.problem}${/NOT ATTESTED/.test(found.problem) ? ' (--unattested pulls it anyway, as unattested bytes)' : ''}`);
      const packet = packetOf(Object.fromEntries(found.files.map((f) => [f, found.bytes(f)])));
      if (packet.tree !== tree) throw new UserError(`cannot pull evidence tree ${tree}: its files hash to ${packet.tree}`);
      // Checked once more as files, the way `lanes evidence verify` will, before the directory appears.
      await writePacketDir(dir, packet, {
        replace: false,
        check: (staging) => {
          const onDisk = verifyEvidenceDir(staging);
          if (onDisk.problems.length > 0 || onDisk.treeHash !== tree) throw new UserError(`cannot pull evidence tree ${tree}: as written it does not verify (${onDisk.problems.join('; ') || `tree ${onDisk.treeHash}`})`);
        },
      });
      const attestedBy = found.attestedBy.map((a) => ({ worker: a.worker.id, keyId: a.worker.keyId, changeId: a.statement.changeId, workflowId: a.statement.workflowId, runId: a.statement.runId, at: a.statement.at }));
      if (flags.json) printJson({ treeHash: tree, dir, files: packet.files.size, from: found.where, attestedBy, ...(found.unattested ? { unattested: found.unattested } : {}) });
      else {
        process.stdout.write(`pulled evidence tree ${tree} (${packet.files.size} files) from ${found.where} into ${dir}\n`);
        for (const a of found.attestedBy) process.stdout.write(`  attested by worker ${a.worker.id} (key ${a.worker.keyId}): change ${a.statement.changeId}, workflow ${a.statement.workflowId}, run ${a.statement.runId}, at ${a.statement.at}\n`);
        if (found.unattested) process.stdout.write(`WARNING: NOT ATTESTED by any worker in the trust root: these bytes match the tree, but nothing says a lane produced them\n`);
        process.stdout.write(`check it offline: lanes evidence verify ${dir} --tree ${tree}\n`);
      }
      return 0;
    } finally {
      await evidence.close();
    }
  },
};
