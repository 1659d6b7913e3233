/**
 * The command table. Each command's module is loaded only when that command runs: `lanes --help` and the offline
 * commands must not pay for the Temporal SDK, PGlite and the SQL parser (a few hundred ms of module loading)
 * they never use. So the one-line summaries `lanes --help` prints live here too; test/cli/commands.test.ts
 * checks they are the commands' own.
 */
import type { Command } from './types';

export interface CommandEntry {
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: Record<string, CommandEntry> = {
  dev: { summary: 'run the embedded stack: dev server, Web UI, worker (npm start)', load: async () => (await import('./dev')).dev },
  cluster: { summary: 'run a real Temporal cluster on PostgreSQL here, with the shared evidence store', load: async () => (await import('./cluster')).cluster },
  worker: { summary: 'run a lane worker against TEMPORAL_ADDRESS (needs LANES_TRUST_ROOT)', load: async () => (await import('./worker')).worker },
  'keys new': { summary: 'create an owner, operator or worker key pair', load: async () => (await import('./keys')).keysNew },
  'trust show': { summary: 'list the people and keys in the trust root (LANES_TRUST_ROOT)', load: async () => (await import('./trust')).trustShow },
  'trust check': { summary: 'validate the trust root; exit 1 naming every bad key', load: async () => (await import('./trust')).trustCheck },
  'change validate': { summary: "check a change spec and its steps' SQL; errors name file, field, line and step", load: async () => (await import('./change')).changeValidate },
  start: { summary: 'start a lane over a change (operator)', load: async () => (await import('./start')).start },
  status: { summary: 'show a lane: state, grants, rejections, evidence', load: async () => (await import('./status')).status },
  list: { summary: 'list lanes, filtered by change, state or lane kind', load: async () => (await import('./list')).list },
  history: { summary: "a lane's history, readable: who granted what and when; its UI link", load: async () => (await import('./history')).history },
  grant: { summary: 'sign and send one grant (owner)', load: async () => (await import('./grant')).grant },
  revoke: { summary: 'sign and send REVOKE for one grant (owner)', load: async () => (await import('./grant')).revoke },
  hold: { summary: 'sign and send HOLD (owner)', load: async () => (await import('./grant')).hold },
  disarm: { summary: 'disarm an armed step: sign and send HOLD (owner)', load: async () => (await import('./grant')).disarm },
  input: { summary: 'hand a lane a signed operator input (surface map, clone provenance, …)', load: async () => (await import('./input')).input },
  blockers: { summary: "show a change's blocker map, or move one blocker (signed)", load: async () => (await import('./blockers')).blockers },
  charter: { summary: "approve a change's blocker map and rules (owner, signed)", load: async () => (await import('./charter')).charter },
  packet: { summary: 'the decision packet of a lane or of a change (default HOLD)', load: async () => (await import('./packet')).packet },
  'seal create': { summary: 'seal files: sha256 + byte length per file', load: async () => (await import('./seal')).sealCreate },
  'seal verify': { summary: 'verify a seal: exit 1 naming each drift', load: async () => (await import('./seal')).sealVerify },
  'evidence verify': { summary: 'verify an evidence packet offline (files, MANIFEST, tree hash)', load: async () => (await import('./evidence')).evidenceVerify },
  'evidence pull': { summary: 'copy an evidence packet (by workflow id or tree) out of the stores, verified', load: async () => (await import('./evidence')).evidencePull },
};

const rows = (names: string[]) => names.map((name) => `  lanes ${name.padEnd(16)} ${COMMANDS[name]!.summary}`).join('\n');

/** The subcommands of a command group (`seal` → `seal create`, `seal verify`); empty when `name` is no group. */
export function groupMembers(name: string): string[] {
  return Object.keys(COMMANDS).filter((c) => c.startsWith(`${name} `));
}

/** What `lanes <group> --help` prints: the group's subcommands and how to get each one's help. */
export function groupUsage(name: string): string {
  const members = groupMembers(name);
  return `Usage:
${rows(members)}

\`lanes ${members[0]} --help\` (and so on) describes each. Exit codes: 0 ok, 1 refused or failed, 2 usage error.
`;
}

export function usage(): string {
  return `Gated Lanes — risky production changes through owner-gated lanes.

Usage:
${rows(Object.keys(COMMANDS))}

Every command takes --help. Exit codes: 0 ok, 1 refused or failed, 2 usage error.
Connection (any command, or the variables in brackets): --address (TEMPORAL_ADDRESS), --namespace
(TEMPORAL_NAMESPACE), --tls (TEMPORAL_TLS), --tls-ca (TEMPORAL_TLS_CA_PATH), --tls-cert / --tls-key
(TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH, for mTLS), --tls-server-name (TEMPORAL_TLS_SERVER_NAME);
an API key only as TEMPORAL_API_KEY.
`;
}
