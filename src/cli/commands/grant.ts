import { parseDuration } from '../duration';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey, requireRole } from '../key-files';
import { connectClient, describeLane, sendEnvelope } from '../lane-client';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { GRANT_ACTIONS, type GrantAction } from '../../domain/vocabulary';
import { configFromEnv } from '../../worker/config';
import { JSON_FLAG, positional, requiredFlag, type Command, type Flags } from './types';

const grantHelp = `lanes grant <workflowId> <ACTION> --key <owner key> [--expires 1h] [--evidence-tree <hash>] [--json]

Signs one grant for one action on one lane and sends it. Actions: ${GRANT_ACTIONS.join(', ')}.
Reports accepted, rejected: <reason>, or queued (no worker is running). Exit 1 unless accepted or queued.`;

const revokeHelp = `lanes revoke <workflowId> <grantId> --key <owner key> [--json]

Signs and sends REVOKE for one grant (its id, from \`lanes status\`): from the moment the lane receives it, the
grant no longer counts. Anything already scheduled before that moment is not undone.`;

const holdHelp = `lanes hold <workflowId> --key <owner key> [--json]

Signs and sends HOLD: the lane stops waiting and ends in HOLD; nothing gated runs.`;

async function send(flags: Flags, workflowId: string, action: GrantAction | 'HOLD' | 'REVOKE', help: string, revokes?: string): Promise<number> {
  const keyPath = requiredFlag(flags, 'key', help);
  const validForMs = flags.expires ? parseDuration(String(flags.expires), '--expires') : 60 * 60_000;
  const evidenceTree = flags['evidence-tree'] as string | undefined;
  if (evidenceTree !== undefined && !/^[0-9a-f]{64}$/.test(evidenceTree)) {
    throw new UserError(`--evidence-tree must be a 64-char lowercase sha256 tree hash`, 2);
  }
  const key = readPrivateKey(keyPath);
  requireRole(key, 'owner', keyPath, action === 'HOLD' ? 'holding a lane' : action === 'REVOKE' ? 'revoking a grant' : 'granting');
  const client = await connectClient(configFromEnv());
  const lane = await describeLane(client, workflowId);
  const envelope = makeEnvelope({ key, workflowId, changeId: lane.changeId, lane: lane.lane, action, validForMs, evidenceTree, revokes });
  const signal = action === 'HOLD' ? 'hold' : action === 'REVOKE' ? 'revoke' : 'grant';
  const verdict = await sendEnvelope(client, lane, signal, envelope);
  if (flags.json) printJson({ ...verdict, reason: 'reason' in verdict ? verdict.reason : null, action, workflowId });
  else process.stdout.write(`${action} ${verdict.result}${'reason' in verdict ? `: ${verdict.reason}` : ''}\n`);
  return verdict.result === 'rejected' ? 1 : 0;
}

export const grant: Command = {
  summary: 'sign and send one grant (owner)',
  help: grantHelp,
  options: { key: { type: 'string' }, expires: { type: 'string' }, 'evidence-tree': { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', grantHelp);
    const action = positional(positionals, 1, 'ACTION', grantHelp);
    if (!(GRANT_ACTIONS as readonly string[]).includes(action)) {
      throw new UserError(`unknown action "${action}"; actions are ${GRANT_ACTIONS.join(', ')}`, 2);
    }
    return send(flags, workflowId, action as GrantAction, grantHelp);
  },
};

export const hold: Command = {
  summary: 'sign and send HOLD (owner)',
  help: holdHelp,
  options: { key: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    return send(flags, positional(positionals, 0, 'workflowId', holdHelp), 'HOLD', holdHelp);
  },
};

export const revoke: Command = {
  summary: 'sign and send REVOKE for one grant (owner)',
  help: revokeHelp,
  options: { key: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', revokeHelp);
    const grantId = positional(positionals, 1, 'grantId', revokeHelp);
    if (!/^[0-9a-f]{64}$/.test(grantId)) throw new UserError('<grantId> must be the 64-char grant id shown by `lanes status --json`', 2);
    return send(flags, workflowId, 'REVOKE', revokeHelp, grantId);
  },
};
