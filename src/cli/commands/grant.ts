import { parseDuration } from '../duration';
import { formatDuration } from '../../domain/duration';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey, requireRole } from '../key-files';
import type { Client } from '@temporalio/client';
import { connectClient, describeLane, sendEnvelope, type LaneIdentity } from '../lane-client';
import { bindingFields, checkReviewedSpec, checkSignerTrustRoot, describeBinding, laneBinding, type LaneBinding } from '../lane-binding';
import { readChangeSpec } from '../change-file';
import type { ChangeState } from '../../domain/change-state';
import { openBlockers } from '../../domain/blocker-map';
import { blockerStateHash } from '../../domain/bindings';
import { EVIDENCE_BOUND_ACTIONS } from '../../domain/gate-rules';
import { changeQuery, changeWorkflowId } from '../../workflows/messages';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { GRANT_ACTIONS, type GrantAction } from '../../domain/vocabulary';
import { armWindowOf } from '../../domain/change-spec';
import { configFromEnv } from '../../worker/config';
import { JSON_FLAG, positional, requiredFlag, type Command, type Flags } from './types';

const grantHelp = `lanes grant <workflowId> <ACTION> --key <owner key> [--change <reviewed spec>] [--expires 1h]
            [--evidence-tree <hash>] [--precheck-tree <hash>] [--window 10m] [--json]

Signs one grant for one action on one lane and sends it. Actions: ${GRANT_ACTIONS.join(', ')}.
The grant is bound to the lane's run, the exact change spec it runs and the trust root it was started under;
what it covers is printed before signing, and --change refuses unless the lane runs exactly the spec you reviewed. REAL_RUN and APPLY name the passed rehearsal's evidence tree, REAL_RUN
also the passed precheck's, and OPT4_PRODUCTION on an execution lane approves the blocker map as it is now:
each is taken from the change (the latest of this spec) unless --evidence-tree / --precheck-tree say otherwise.
--window arms an armed step (one declaring \`window\` and \`preconditions\`) with this grant of its action: it may
apply only until the grant's issue time plus --window (at most the step's window), and only while its
preconditions hold on production; when the window lapses, or an owner sends \`lanes hold\`, the lane ends in HOLD.
Reports accepted, rejected: <reason>, queued (no worker is running), or pending (a worker polls but the lane gave
no verdict in time, e.g. right after a restart: \`lanes status <workflowId>\` shows it once judged). Exit 1 only when rejected.`;

const revokeHelp = `lanes revoke <workflowId> <grantId> --key <owner key> [--change <reviewed spec>] [--json]

Signs and sends REVOKE for one grant (its id, from \`lanes status\`): from the moment the lane receives it, the
grant no longer counts. Anything already scheduled before that moment is not undone.`;

const holdHelp = `lanes hold <workflowId> --key <owner key> [--change <reviewed spec>] [--json]

Signs and sends HOLD: the lane stops waiting and ends in HOLD; nothing gated runs.`;

function treeFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name] as string | undefined;
  if (v !== undefined && !/^[0-9a-f]{64}$/.test(v)) throw new UserError(`--${name} must be a 64-char lowercase sha256 tree hash`, 2);
  return v;
}

/**
 * How long the change entity may take to answer a query. Long enough for a worker that died to be replaced: its
 * entity's next task waits on the dead worker's sticky queue until the server gives up on it (about 10 s, the SDK's
 * sticky schedule-to-start timeout) and hands it to another worker, which replays it first.
 */
const CHANGE_ENTITY_ANSWER_MS = 25_000;

/** The latest completed lane of `kind` of this very spec, from the change entity's ledger. */
function latestOf(state: ChangeState | undefined, kind: string, specHash: string): string | undefined {
  return [...(state?.ledger ?? [])].reverse().find((e) => e.lane === kind && e.outcome === 'COMPLETED' && e.specHash === specHash)?.treeHash;
}

/** What a grant names beyond its binding: evidence trees and the approved blocker map state, said aloud. */
async function namedEvidence(client: Client, lane: LaneIdentity, binding: LaneBinding, action: GrantAction, flags: Flags) {
  // Said aloud on stderr; with --json the same facts are in the printed result instead.
  const say = (line: string) => void (flags.json ? undefined : process.stderr.write(line));
  const needsTree = EVIDENCE_BOUND_ACTIONS.includes(action);
  const needsPrecheck = action === 'REAL_RUN';
  const needsBlockers = action === 'OPT4_PRODUCTION' && lane.lane === 'execution';
  let evidenceTree = treeFlag(flags, 'evidence-tree');
  let precheckTree = treeFlag(flags, 'precheck-tree');
  if (!needsTree && evidenceTree) throw new UserError(`--evidence-tree applies to ${EVIDENCE_BOUND_ACTIONS.join(', ')} only`, 2);
  if (!needsPrecheck && precheckTree) throw new UserError('--precheck-tree applies to REAL_RUN only', 2);
  if (!(needsTree && !evidenceTree) && !(needsPrecheck && !precheckTree) && !needsBlockers) return { evidenceTree, precheckTree };
  let state: ChangeState | undefined;
  try {
    state = await client.connection.withDeadline(Date.now() + CHANGE_ENTITY_ANSWER_MS, () => client.workflow.getHandle(changeWorkflowId(lane.changeId)).query(changeQuery));
  } catch {
    throw new UserError(
      `${action} on this lane names ${[needsTree && !evidenceTree && 'the passed rehearsal (--evidence-tree)', needsPrecheck && !precheckTree && 'the passed precheck (--precheck-tree)', needsBlockers && "the blocker map's current state"].filter(Boolean).join(', ')}, read from the change entity change:${lane.changeId}, which did not answer within ${CHANGE_ENTITY_ANSWER_MS / 1000} s (is a worker running? \`lanes status ${lane.workflowId}\` shows whether the lane's are); nothing was signed or sent`,
    );
  }
  if (needsTree && !evidenceTree) {
    evidenceTree = latestOf(state, 'rehearsal', binding.specHash);
    if (!evidenceTree) throw new UserError(`${action} names a passed rehearsal of this spec, and change ${lane.changeId} has none yet`);
    say(`  naming the latest passed rehearsal of this spec: evidence tree ${evidenceTree}
`);
  }
  if (needsPrecheck && !precheckTree) {
    precheckTree = latestOf(state, 'precheck', binding.specHash);
    if (!precheckTree) throw new UserError(`REAL_RUN names a passed precheck of this spec, and change ${lane.changeId} has none yet`);
    say(`  naming the latest passed precheck of this spec: evidence tree ${precheckTree}
`);
  }
  if (!needsBlockers) return { evidenceTree, precheckTree };
  const open = openBlockers(state.blockers);
  say(`  approving the blocker map as it is now: ${open.length} open${open.length ? ` (${open.map((b) => b.id).join(', ')})` : ''}
`);
  return { evidenceTree, precheckTree, blockersHash: blockerStateHash(state.blockers) };
}

/**
 * --window for a step action's grant on an execution: required when a step of that action is armed, refused when
 * none is, and at most the shortest window such a step declares (the production worker checks the same).
 */
export function armWindow(lane: LaneIdentity, binding: LaneBinding, action: GrantAction, flags: Flags): number | undefined {
  const asked = flags.window === undefined ? undefined : parseDuration(String(flags.window), '--window');
  const armedSteps = lane.lane === 'execution' ? binding.change.steps.filter((s) => s.action === action && armWindowOf(s) !== undefined) : [];
  if (armedSteps.length === 0) {
    if (asked !== undefined) throw new UserError(`--window arms an armed step, and this lane has no armed ${action} step; nothing was signed`, 2);
    return undefined;
  }
  const most = Math.min(...armedSteps.map((s) => armWindowOf(s)!));
  const names = armedSteps.map((s) => `${s.id} (window ${s.window})`).join(', ');
  if (asked === undefined) throw new UserError(`${action} arms ${names}: pass --window (at most ${formatDuration(most)}), e.g. --window ${formatDuration(Math.min(most, 10 * 60_000))}; nothing was signed`, 2);
  if (asked > most) throw new UserError(`--window ${String(flags.window)} is longer than ${names} may be armed (${formatDuration(most)}); nothing was signed`, 2);
  return asked;
}

async function send(flags: Flags, workflowId: string, action: GrantAction | 'HOLD' | 'REVOKE', help: string, revokes?: string): Promise<number> {
  const keyPath = requiredFlag(flags, 'key', help);
  const asked = flags.expires ? parseDuration(String(flags.expires), '--expires') : undefined;
  const key = readPrivateKey(keyPath);
  requireRole(key, 'owner', keyPath, action === 'HOLD' ? 'holding a lane' : action === 'REVOKE' ? 'revoking a grant' : 'granting');
  const cfg = configFromEnv();
  const client = await connectClient(cfg);
  const lane = await describeLane(client, workflowId);
  const binding = await laneBinding(client, lane);
  const { startedBy, limits } = await checkSignerTrustRoot(cfg, lane, binding);
  if (asked !== undefined && asked > limits.grantLifetimeMs) {
    throw new UserError(`--expires ${String(flags.expires)} is longer than the trust root allows a grant to live (${formatDuration(limits.grantLifetimeMs)}); ask for less, e.g. --expires 1h. Nothing was signed`, 2);
  }
  const validForMs = asked ?? Math.min(60 * 60_000, limits.grantLifetimeMs);
  checkReviewedSpec(binding, typeof flags.change === 'string' ? readChangeSpec(flags.change) : undefined);
  const named = action === 'HOLD' || action === 'REVOKE' ? {} : await namedEvidence(client, lane, binding, action, flags);
  const armed = action === 'HOLD' || action === 'REVOKE' ? undefined : armWindow(lane, binding, action, flags);
  if (!flags.json) process.stderr.write(describeBinding(lane, binding, action, startedBy));
  const envelope = makeEnvelope({ key, workflowId, changeId: lane.changeId, lane: lane.lane, action, validForMs, revokes, ...bindingFields(binding), ...named, ...(armed !== undefined ? { armWindowMs: armed } : {}) });
  const signal = action === 'HOLD' ? 'hold' : action === 'REVOKE' ? 'revoke' : 'grant';
  const verdict = await sendEnvelope(client, lane, signal, envelope);
  if (flags.json) printJson({ ...verdict, reason: 'reason' in verdict ? verdict.reason : null, action, workflowId, signed: envelope.payload });
  else process.stdout.write(`${action} ${verdict.result}${'reason' in verdict ? `: ${verdict.reason}` : ''}\n`);
  return verdict.result === 'rejected' ? 1 : 0;
}

export const grant: Command = {
  summary: 'sign and send one grant (owner)',
  help: grantHelp,
  options: { key: { type: 'string' }, change: { type: 'string' }, expires: { type: 'string' }, 'evidence-tree': { type: 'string' }, 'precheck-tree': { type: 'string' }, window: { type: 'string' }, ...JSON_FLAG },
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
  options: { key: { type: 'string' }, change: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    return send(flags, positional(positionals, 0, 'workflowId', holdHelp), 'HOLD', holdHelp);
  },
};

const disarmHelp = `lanes disarm <workflowId> --key <owner key> [--change <reviewed spec>] [--json]

Disarms an execution's armed step: signs and sends HOLD, so the lane stops looking at production and ends in HOLD
naming the precondition that was failing; the step applies nothing. (The same envelope as \`lanes hold\`.)`;

export const disarm: Command = {
  summary: 'disarm an armed step: sign and send HOLD (owner)',
  help: disarmHelp,
  options: { key: { type: 'string' }, change: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    return send(flags, positional(positionals, 0, 'workflowId', disarmHelp), 'HOLD', disarmHelp);
  },
};

export const revoke: Command = {
  summary: 'sign and send REVOKE for one grant (owner)',
  help: revokeHelp,
  options: { key: { type: 'string' }, change: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', revokeHelp);
    const grantId = positional(positionals, 1, 'grantId', revokeHelp);
    if (!/^[0-9a-f]{64}$/.test(grantId)) throw new UserError('<grantId> must be the 64-char grant id shown by `lanes status --json`', 2);
    return send(flags, workflowId, 'REVOKE', revokeHelp, grantId);
  },
};
