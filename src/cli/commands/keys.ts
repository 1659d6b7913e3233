import { resolve } from 'node:path';
import { createKeyPair, KEY_FILE_ROLES, type KeyFileRole } from '../key-files';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, requiredFlag, type Command } from './types';

const help = `lanes keys new --role owner|operator|worker --name <n> --out <dir> [--json]

Creates <dir>/<n>.key (private, mode 0600) and <dir>/<n>.pub (the entry to add to the trust root).
Existing files are never overwritten. A worker key (--role worker, --name the host) is a worker host's: list it
under the trust root's "workers" as {"id": "<n>", "publicKey": "…"} and give the host LANES_WORKER_KEY=<dir>/<n>.key;
it attests what that worker publishes to the shared evidence store and can sign nothing else.`;

export const keysNew: Command = {
  summary: 'create an owner, operator or worker key pair',
  help,
  options: { role: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, ...JSON_FLAG },
  async run(flags) {
    const role = requiredFlag(flags, 'role', help);
    if (!(KEY_FILE_ROLES as readonly string[]).includes(role)) throw new UserError(`--role must be owner, operator or worker, not "${role}"`, 2);
    const { keyPath, pubPath, entry } = createKeyPair(resolve(requiredFlag(flags, 'out', help)), requiredFlag(flags, 'name', help), role as KeyFileRole);
    if (flags.json) printJson({ keyPath, pubPath, ...entry });
    else process.stdout.write(`created ${role} key ${entry.name} (${entry.keyId})\n  private: ${keyPath}\n  public:  ${pubPath}\n`);
    return 0;
  },
};
