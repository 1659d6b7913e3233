import { resolve } from 'node:path';
import { createKeyPair } from '../key-files';
import { printJson } from '../output';
import { ROLES, type Role } from '../../domain/vocabulary';
import { UserError } from '../user-error';
import { JSON_FLAG, requiredFlag, type Command } from './types';

const help = `lanes keys new --role owner|operator --name <n> --out <dir> [--json]

Creates <dir>/<n>.key (private, mode 0600) and <dir>/<n>.pub (the entry to add to the trust root).
Existing files are never overwritten.`;

export const keysNew: Command = {
  summary: 'create an owner or operator key pair',
  help,
  options: { role: { type: 'string' }, name: { type: 'string' }, out: { type: 'string' }, ...JSON_FLAG },
  async run(flags) {
    const role = requiredFlag(flags, 'role', help);
    if (!(ROLES as readonly string[]).includes(role)) throw new UserError(`--role must be owner or operator, not "${role}"`, 2);
    const { keyPath, pubPath, entry } = createKeyPair(resolve(requiredFlag(flags, 'out', help)), requiredFlag(flags, 'name', help), role as Role);
    if (flags.json) printJson({ keyPath, pubPath, ...entry });
    else process.stdout.write(`created ${role} key ${entry.name} (${entry.keyId})\n  private: ${keyPath}\n  public:  ${pubPath}\n`);
    return 0;
  },
};
