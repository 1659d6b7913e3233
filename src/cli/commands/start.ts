import { randomBytes } from 'node:crypto';
import { readChangeSpec } from '../change-file';
import { parseDuration } from '../duration';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey, requireRole } from '../key-files';
import { connectClient } from '../lane-client';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { LANE_KINDS, LANE_REQUIRED_GRANTS, type LaneKind } from '../../domain/vocabulary';
import { SA_CHANGE_ID, SA_LANE_KIND, SA_LANE_STATE } from '../../domain/search-attributes';
import { LANE_WORKFLOW_TYPES } from '../../workflows/registry';
import type { LaneInput } from '../../workflows/lane-input';
import { configFromEnv, workflowUiLink } from '../../worker/config';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const help = `lanes start <lane> --change <spec> --key <operator key> [--grant-timeout 72h] [--json]

Starts a lane over a change, signed by the operator's key. Lanes: ${LANE_KINDS.join(', ')}.
The lane waits for the owner's grants; with none before --grant-timeout it ends in HOLD.`;

/** Readable, sortable and unique: <change>.<lane>.<UTC stamp>.<random>. */
export function newWorkflowId(changeId: string, lane: LaneKind, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${changeId}.${lane}.${stamp}.${randomBytes(3).toString('hex')}`;
}

export const start: Command = {
  summary: 'start a lane over a change (operator)',
  help,
  options: { change: { type: 'string' }, key: { type: 'string' }, 'grant-timeout': { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const laneArg = positional(positionals, 0, 'lane', help);
    if (!(LANE_KINDS as readonly string[]).includes(laneArg)) throw new UserError(`unknown lane "${laneArg}"; lanes are ${LANE_KINDS.join(', ')}`, 2);
    const lane = laneArg as LaneKind;
    const workflowType = LANE_WORKFLOW_TYPES[lane];
    if (!workflowType) throw new UserError(`the ${lane} lane is not available in this version yet; available: ${Object.keys(LANE_WORKFLOW_TYPES).join(', ')}`);
    const keyPath = requiredFlag(flags, 'key', help);
    const change = readChangeSpec(requiredFlag(flags, 'change', help));
    const key = readPrivateKey(keyPath);
    requireRole(key, 'operator', keyPath, 'starting a lane');
    const grantTimeoutMs = flags['grant-timeout'] ? parseDuration(String(flags['grant-timeout']), '--grant-timeout') : undefined;

    const cfg = configFromEnv();
    const client = await connectClient(cfg);
    const workflowId = newWorkflowId(change.id, lane);
    const startEnvelope = makeEnvelope({ key, workflowId, changeId: change.id, lane, action: 'START_LANE', validForMs: 10 * 60_000 });
    const input: LaneInput = { change, start: startEnvelope, ...(grantTimeoutMs ? { grantTimeoutMs } : {}) };
    await client.workflow.start(workflowType, {
      workflowId,
      taskQueue: cfg.taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: SA_CHANGE_ID, value: change.id },
        { key: SA_LANE_KIND, value: lane },
        { key: SA_LANE_STATE, value: 'STARTING' },
      ],
      staticSummary: `${lane} lane — ${change.id}: ${change.title}`,
      staticDetails: [
        `**Change** ${change.id} — ${change.title}`,
        `**Lane** ${lane}, started by operator ${key.name} (${key.keyId})`,
        `**Needs owner grants** ${LANE_REQUIRED_GRANTS[lane].join(', ') || 'none'}; silence means HOLD.`,
      ].join('\n\n'),
    });
    const ui = workflowUiLink(cfg, workflowId);
    if (flags.json) printJson({ workflowId, lane, changeId: change.id, ui });
    else process.stdout.write(`started ${lane} lane ${workflowId}\n  ui: ${ui}\n  next: lanes status ${workflowId}\n`);
    return 0;
  },
};
