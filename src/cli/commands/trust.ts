import { TrustRootError, type TrustRoot } from '../../domain/trust-root';
import { readTrustRootFile } from '../../worker/trust-root-file';
import { configFromEnv } from '../../worker/config';
import { printJson, table } from '../output';
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

export const trustShow: Command = {
  summary: 'list the keys in the trust root (LANES_TRUST_ROOT)',
  help: 'lanes trust show [--file <trust-root.json>] [--json]',
  options,
  async run(flags) {
    const { path, root } = await loadTrustRoot(flags);
    if (flags.json) printJson({ path, ...root });
    else {
      process.stdout.write(`${path}\nfingerprint ${root.fingerprint}\n\n`);
      process.stdout.write(`${table([['ROLE', 'NAME', 'KEY ID'], ...root.keys.map((k) => [k.role, k.name, k.keyId])])}\n`);
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
    if (flags.json) printJson({ path, ok: true, fingerprint: root.fingerprint, keys: root.keys.length });
    else process.stdout.write(`${path}: ok, ${root.keys.length} keys, fingerprint ${root.fingerprint}\n`);
    return 0;
  },
};
