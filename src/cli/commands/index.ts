import { changeValidate } from './change';
import { dev } from './dev';
import { disarm, grant, hold, revoke } from './grant';
import { blockers } from './blockers';
import { charter } from './charter';
import { sealCreate, sealVerify } from './seal';
import { evidenceVerify } from './evidence';
import { keysNew } from './keys';
import { list } from './list';
import { history } from './history';
import { packet } from './packet';
import { input } from './input';
import { start } from './start';
import { status } from './status';
import { trustCheck, trustShow } from './trust';
import type { Command } from './types';
import { worker } from './worker';

export const COMMANDS: Record<string, Command> = {
  dev,
  worker,
  'keys new': keysNew,
  'trust show': trustShow,
  'trust check': trustCheck,
  'change validate': changeValidate,
  start,
  status,
  list,
  history,
  grant,
  revoke,
  hold,
  disarm,
  input,
  blockers,
  charter,
  packet,
  'seal create': sealCreate,
  'seal verify': sealVerify,
  'evidence verify': evidenceVerify,
};

export function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  lanes ${name.padEnd(16)} ${c.summary}`);
  return `Gated Lanes — risky production changes through owner-gated lanes.

Usage:
${rows.join('\n')}

Every command takes --help. Exit codes: 0 ok, 1 refused or failed, 2 usage error.
Connection (any command, or the variables in brackets): --address (TEMPORAL_ADDRESS), --namespace
(TEMPORAL_NAMESPACE), --tls (TEMPORAL_TLS), --tls-ca (TEMPORAL_TLS_CA_PATH), --tls-cert / --tls-key
(TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH, for mTLS), --tls-server-name (TEMPORAL_TLS_SERVER_NAME);
an API key only as TEMPORAL_API_KEY.
`;
}
