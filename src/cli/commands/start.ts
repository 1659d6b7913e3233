import { readContainedChangeSpec } from '../change-file';
import { parseDuration } from '../duration';
import { formatDuration } from '../../domain/duration';
import { readPrivateKey, requireRole } from '../key-files';
import { connectClient, startLaneWorkflow } from '../lane-client';
import { signingTrustRoot } from '../lane-binding';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { LANE_KINDS, type LaneKind } from '../../domain/vocabulary';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configFromEnv, usesNamedCluster, workflowUiLink } from '../../worker/config';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const help = `lanes start <lane> --change <spec> [--key <operator key>] [--shaped] [--grant-timeout 72h]
             [--precheck-valid-for 24h] [--resume-from <step>] [--json]

Starts a lane over a change, signed by the operator's key. Lanes: ${LANE_KINDS.join(', ')}.
Without --key: LANES_OPERATOR_KEY, else (on the embedded dev server only, never with TEMPORAL_ADDRESS set)
the development operator key \`npm start\` made (.lanes/keys/).
--shaped (rehearsal only) rehearses on a production-shaped clone. The lane waits for the owner's grants;
with none before --grant-timeout it ends in HOLD. A passed precheck opens execution for --precheck-valid-for.
--resume-from <step> (precheck and execution) resumes a half-applied change from that step: the precheck accepts
exactly the change's own steps before it as applied, and the execution applies only the steps from it on.
The rollback lane undoes the change's applied steps instead (OPT4_PRODUCTION + PROD_ROLLBACK).`;

/** --key, else LANES_OPERATOR_KEY, else the development operator key; said aloud, since it signs. */
function operatorKeyPath(flag: string | boolean | undefined, lanesHome: string): string {
  if (typeof flag === 'string' && flag) return flag;
  if (!process.env.LANES_OPERATOR_KEY && usesNamedCluster()) {
    throw new UserError(`missing --key <operator key>: TEMPORAL_ADDRESS names a Temporal server of your own, where the development operator key is never used; pass --key or set LANES_OPERATOR_KEY\n\n${help}`, 2);
  }
  const fallback = process.env.LANES_OPERATOR_KEY || join(lanesHome, 'keys', 'dev-operator.key');
  if (!existsSync(fallback)) throw new UserError(`missing --key <operator key> (no LANES_OPERATOR_KEY, and no development key at ${fallback})\n\n${help}`, 2);
  process.stderr.write(`signing with ${fallback} (no --key given)\n`);
  return fallback;
}

export const start: Command = {
  summary: 'start a lane over a change (operator)',
  help,
  options: {
    change: { type: 'string' },
    key: { type: 'string' },
    shaped: { type: 'boolean' },
    'grant-timeout': { type: 'string' },
    'precheck-valid-for': { type: 'string' },
    'resume-from': { type: 'string' },
    ...JSON_FLAG,
  },
  async run(flags, positionals) {
    const laneArg = positional(positionals, 0, 'lane', help);
    if (!(LANE_KINDS as readonly string[]).includes(laneArg)) throw new UserError(`unknown lane "${laneArg}"; lanes are ${LANE_KINDS.join(', ')}`, 2);
    const lane = laneArg as LaneKind;
    const keyPath = operatorKeyPath(flags.key, configFromEnv().lanesHome);
    const change = await readContainedChangeSpec(requiredFlag(flags, "change", help));
    const key = readPrivateKey(keyPath);
    requireRole(key, 'operator', keyPath, 'starting a lane');
    const grantTimeoutMs = flags['grant-timeout'] ? parseDuration(String(flags['grant-timeout']), '--grant-timeout') : undefined;
    const precheckValidForMs = flags['precheck-valid-for'] ? parseDuration(String(flags['precheck-valid-for']), '--precheck-valid-for') : undefined;
    if (flags.shaped && lane !== 'rehearsal') throw new UserError(`--shaped applies to the rehearsal lane only, not ${lane}`, 2);
    if (precheckValidForMs && lane !== 'precheck') throw new UserError(`--precheck-valid-for applies to the precheck lane only, not ${lane}`, 2);
    const resumeFrom = flags['resume-from'] === undefined ? undefined : String(flags['resume-from']);
    if (resumeFrom !== undefined) {
      if (lane !== 'precheck' && lane !== 'execution') throw new UserError(`--resume-from applies to the precheck and execution lanes only, not ${lane}`, 2);
      const at = change.steps.findIndex((s) => s.id === resumeFrom);
      if (at < 0) throw new UserError(`--resume-from ${resumeFrom}: change ${change.id} declares no such step (its steps: ${change.steps.map((s) => s.id).join(', ')})`, 2);
      if (at === 0) throw new UserError(`--resume-from ${resumeFrom} is the first step: start a plain ${lane} without --resume-from`, 2);
    }

    const cfg = configFromEnv();
    const client = await connectClient(cfg);
    const { fingerprint: trustRoot, limits } = await signingTrustRoot(cfg);
    if (precheckValidForMs !== undefined && precheckValidForMs > limits.precheckValidityMs) {
      throw new UserError(`--precheck-valid-for ${String(flags['precheck-valid-for'])} is longer than the trust root allows a precheck to stand (${formatDuration(limits.precheckValidityMs)}); nothing was started`, 2);
    }
    const { workflowId } = await startLaneWorkflow(client, {
      lane,
      change,
      trustRoot,
      operatorKey: key,
      taskQueue: cfg.taskQueue,
      grantTimeoutMs,
      precheckValidForMs,
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      shaped: flags.shaped === true,
    });
    const ui = workflowUiLink(cfg, workflowId);
    if (flags.json) printJson({ workflowId, lane, changeId: change.id, ui });
    else process.stdout.write(`started ${lane} lane ${workflowId}\n  ui: ${ui}\n  next: lanes status ${workflowId}\n`);
    return 0;
  },
};
