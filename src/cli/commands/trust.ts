import { TrustRootError, type TrustRoot } from '../../domain/trust-root';
import { readTrustRootFile } from '../../worker/trust-root-file';
import { configFromEnv } from '../../worker/config';
import { printJson, table } from '../output';
import { formatDuration } from '../../domain/duration';
import { UserError } from '../user-error';
import { JSON_FLAG, type Command } from './types';

async function loadTrustRoot(flags: Record<string, unknown>): Promise<{ path: string; root: TrustRoot }> {
  const path = (flags.file as string | undefined) ?? configFromEnv().trustRootPath;
  if (!path) throw new UserError('no trust root: set LANES_TRUST_ROOT or pass --file <trust-root.json>', 2);
  try {
    return { path, root: await readTrustRootFile(path) };
  } catch (err) {
    if (err instanceof TrustRootError) throw new UserError(err.message);
    throw err;
  }
}

const options = { file: { type: 'string' }, ...JSON_FLAG } as const;

/** Said of every v1 file: how its keys count, and how to say who is who instead. */
const V1_NOTE = 'trust root v1: keys are grouped into people by name (case-insensitive), so keys of one name count as one person; write v2 ("people") to say who holds which keys (README: "Trust root")';

const limitsLine = (root: TrustRoot) => `limits: grants live at most ${formatDuration(root.limits.grantLifetimeMs)}, a precheck stands at most ${formatDuration(root.limits.precheckValidityMs)}`;

export const trustShow: Command = {
  summary: 'list the people and keys in the trust root (LANES_TRUST_ROOT)',
  help: 'lanes trust show [--file <trust-root.json>] [--json]',
  options,
  async run(flags) {
    const { path, root } = await loadTrustRoot(flags);
    if (flags.json) printJson({ path, ...root });
    else {
      process.stdout.write(`${path}\nfingerprint ${root.fingerprint}\n${limitsLine(root)}\n${root.version === 1 ? `${V1_NOTE}\n` : ''}\n`);
      process.stdout.write(`${table([['PERSON', 'NAME', 'ROLE', 'KEY ID'], ...root.keys.map((k) => [k.person, k.name, k.role, k.keyId])])}\n`);
      const workers = root.workers ?? [];
      process.stdout.write(
        workers.length > 0
          ? `\nworkers (attest what they publish to the shared evidence store; they sign no grant):\n${table([['WORKER', 'KEY ID'], ...workers.map((w) => [w.id, w.keyId])])}\n`
          : '\nworkers: none (a cluster, LANES_EVIDENCE_URL, needs each worker host\'s key listed under "workers")\n',
      );
    }
    return 0;
  },
};

export const trustCheck: Command = {
  summary: 'validate the trust root; exit 1 naming every bad key',
  help: 'lanes trust check [--file <trust-root.json>] [--json]',
  options,
  async run(flags) {
    const { path, root } = await loadTrustRoot(flags);
    const workers = root.workers ?? [];
    if (flags.json) printJson({ path, ok: true, version: root.version, fingerprint: root.fingerprint, people: root.people.length, keys: root.keys.length, workers: workers.map((w) => ({ id: w.id, keyId: w.keyId })), limits: root.limits });
    else process.stdout.write(`${path}: ok, ${root.people.length} people, ${root.keys.length} keys, ${workers.length} worker${workers.length === 1 ? '' : 's'}${workers.length > 0 ? ` (${workers.map((w) => `${w.id} ${w.keyId}`).join(', ')})` : ''}, fingerprint ${root.fingerprint}\n${limitsLine(root)}\n${root.version === 1 ? `${V1_NOTE}\n` : ''}`);
    return 0;
  },
};
