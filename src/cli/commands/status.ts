import { connectClient, describeLane, queryStatus, type LaneIdentity } from '../lane-client';
import { bold, printJson, table } from '../output';
import type { LaneStatus } from '../../domain/lane-status';
import { configFromEnv, workflowUiLink } from '../../worker/config';
import { JSON_FLAG, positional, type Command } from './types';
import { halfApplied, halfAppliedLine, recoveryOptions } from '../../domain/recovery';

const help = `lanes status <workflowId> [--json]

State, grants present and missing, rejected envelopes with reasons, evidence. Needs a running worker for the
full picture; without one it shows what the search attributes say.`;

export function renderStatus(s: LaneStatus, ui: string, working: LaneIdentity['working'] = []): string {
  const lines = [
    `${bold(s.state)}  ${s.lane} lane ${s.workflowId}`,
    table([
      ['change', s.changeId],
      ['started by', s.startedBy ? `${s.startedBy.name} (${s.startedBy.keyId})` : '-'],
      ['trust root', s.trustRootFingerprint ?? '-'],
      ['grants missing', s.grantsMissing.join(', ') || 'none'],
      ...(s.probes ? [['probes', `${s.probes.failedClosed}/${s.probes.total} fail closed${s.probes.accepted.length ? ` — ACCEPTED: ${s.probes.accepted.join(', ')}` : ''}`]] : []),
      ...(s.waitingFor.length > 0 && s.state === 'WAITING_FOR_GRANT' ? [['waiting for', s.waitingFor.join('; ')]] : []),
      ...(s.blockersOpen.length > 0 ? [['blockers open', s.blockersOpen.join(', ')]] : []),
      ...(s.revoked.length > 0 ? [['revoked', s.revoked.map((r) => r.slice(0, 16)).join(', ')]] : []),
      ...working.map((w) => ['working on', `${w.activity}${w.stage ? `: ${w.stage}` : ''}${w.attempt > 1 ? ` (attempt ${w.attempt})` : ''}`]),
      ...(s.deadline ? [['HOLD at', s.deadline]] : []),
      ...(s.holdReason ? [['hold', s.holdReason]] : []),
      ...(s.failure ? [['failure', s.failure]] : []),
      ...(s.evidence ? [['evidence', `${s.evidence.treeHash} (${s.evidence.files} files) ${s.evidence.dir}`]] : []),
      ...(s.decisionPacket ? [['decision packet', s.decisionPacket]] : []),
      ['ui', ui],
    ]),
  ];
  if (s.grantsPresent.length > 0) {
    lines.push('', 'grants present:', table([['ACTION', 'SIGNER', 'EXPIRES', 'ID'], ...s.grantsPresent.map((g) => [g.action, g.signer.name, g.expiresAt, g.id.slice(0, 16)])]));
  }
  if (s.inputs && s.inputs.length > 0) {
    lines.push('', 'operator inputs:', table([['KIND', 'BY', 'BYTES', 'SHA256'], ...s.inputs.map((i) => [i.kind, i.by.name, String(i.bytes), i.sha256])]));
  }
  if (s.steps && s.steps.length > 0) {
    lines.push('', 'steps:', table([['STEP', 'ACTION', 'STATE', 'AT'], ...s.steps.map((st) => [st.id, st.action, st.state === 'RUNNING' && st.armedUntil ? `RUNNING, armed until ${st.armedUntil}` : st.state, st.appliedAt ?? st.rolledBackAt ?? '-'])]));
  }
  const armed = s.steps?.find((st) => st.state === 'RUNNING' && st.armedUntil);
  if (armed?.lastCheck) lines.push('', `armed step ${armed.id}, last check: ${armed.lastCheck}`);
  const half = halfApplied(s);
  if (half) {
    lines.push('', bold(halfAppliedLine(half)), 'options besides HOLD (the default):', ...recoveryOptions(half).map((o) => `  ${o.id}: ${o.text}`));
  }
  if (s.rejected.length > 0) {
    lines.push('', 'rejected envelopes:', table([['RECEIVED', 'CODE', 'REASON'], ...s.rejected.map((r) => [r.receivedAt, r.code, r.reason])]));
  }
  return `${lines.join('\n')}\n`;
}

export const status: Command = {
  summary: 'show a lane: state, grants, rejections, evidence',
  help,
  options: { ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', help);
    const cfg = configFromEnv();
    const client = await connectClient(cfg);
    const identity = await describeLane(client, workflowId);
    const s = await queryStatus(client, workflowId);
    const ui = workflowUiLink(cfg, workflowId);
    if (!s) {
      if (flags.json) printJson({ ...identity, ui, source: 'search-attributes', note: 'no worker answered the status query' });
      else process.stdout.write(`${identity.state ?? identity.temporalStatus}  ${identity.lane} lane ${workflowId}\n  grants missing: ${identity.grantsMissing?.join(', ') || '-'}\n  (no worker answered the status query: this is what the search attributes say)\n  ui: ${ui}\n`);
      return 0;
    }
    if (flags.json) printJson({ ...s, working: identity.working, ui });
    else process.stdout.write(renderStatus(s, ui, identity.working));
    return 0;
  },
};
