/**
 * The decision packet (DESIGN.md §Words, seeds 000/002/003): rendered after every lane from durable state — the
 * lane's outcome and what its change entity last told it. It selects nothing: the default is always HOLD, the
 * options are listed, the open preconditions are tabled, and exactly one next step is recommended.
 * Pure, so the workflow renders it deterministically and an activity only writes the bytes.
 */
import { openBlockers, type Blocker } from './blocker-map';
import { ruleFor } from './blocker-rules';
import type { ChangeView } from './gate-rules';
import type { LaneStatus } from './lane-status';
import { halfApplied, halfAppliedLine, recoveryOptions } from './recovery';

export const DECISION_OPTIONS = [
  { id: 'HOLD_PRODUCTION', text: 'do nothing further (default, recommended)' },
  { id: 'AUTHORIZE_PRODUCTION_REHEARSAL_ONLY', text: 'clone/isolated rehearsal to prove snapshot/restore; no production' },
  { id: 'AUTHORIZE_PRODUCTION_DRYRUN_ONLY', text: 'production read-only dry-run (entry == exit), no mutation' },
  { id: 'AUTHORIZE_PRODUCTION_REALRUN_PRECHECK_ONLY', text: 'real-run pre-checks, still no mutation' },
  { id: 'AUTHORIZE_PRODUCTION_EXECUTION', text: 'actual production apply (requires ALL blockers resolved + per-action grants)' },
] as const;

export interface DecisionPacket {
  changeId: string;
  workflowId: string;
  lane: string;
  outcome: string;
  statusLine: string;
  whatChanged: string[];
  default: 'HOLD_PRODUCTION';
  selects: null;
  options: { id: string; text: string }[];
  preconditions: { blocker: string; status: string; actor: string; gate: string }[];
  recommendation: string;
}

/**
 * Open blockers, split: authorization gates (satisfied per execution lane by its own grants, never closed) and
 * the rest, which stop production until someone closes them.
 */
function openSplit(view: ChangeView | undefined): { blocking: Blocker[]; gates: Blocker[] } {
  const open = openBlockers(view?.blockers);
  const isGate = (b: Blocker) => ruleFor(b, view?.rules).grants !== undefined;
  return { blocking: open.filter((b) => !isGate(b)), gates: open.filter(isGate) };
}

/** A change entity holding a blocker map its owners have not chartered yet (an entity's view always says). */
const unchartered = (view: ChangeView | undefined): boolean => Boolean(view?.charter && !view.charter.at);

function recommend(status: LaneStatus, view: ChangeView | undefined): string {
  const { blocking, gates } = openSplit(view);
  if (status.lane === 'execution' && status.state === 'COMPLETED') return 'Production execution is complete; verify the evidence packet and hold.';
  if (status.lane === 'rollback' && status.state === 'COMPLETED') return "Production's rollback is complete; verify in the evidence packet (rollback.json) that production is restored to the pre-execution fingerprint, and hold.";
  if (unchartered(view)) return `Hold production. The blocker map and rules (or the declaration that there are none) are the operator's proposal until an owner charters them (\`lanes charter ${status.changeId} --change <spec> --key <owner key>\`): until then no blocker moves and no execution opens.`;
  if (!view?.latestRehearsal) return 'If you are not holding, authorize a rehearsal on an isolated clone first: it proves the rollback with zero production risk.';
  if (blocking.length > 0) {
    const b = blocking[0]!;
    return `Hold production. The next step is to resolve ${b.id} (${b.actor_needed}): ${b.next_action}.`;
  }
  if (!view.latestPrecheck) return 'If you are not holding, authorize a real-run precheck (AUTHORIZE_PRECHECK + OPT4_PRODUCTION); it does not mutate.';
  const gateText = gates.length > 0 ? ` (the open authorization gates ${gates.map((g) => g.id).join(', ')} are met only by those grants)` : '';
  return `Every blocker is resolved: execution may be considered, with OPT4_PRODUCTION, REAL_RUN and one explicit grant per irreversible action${gateText}.`;
}

export function decisionPacket(status: LaneStatus, view: ChangeView | undefined): DecisionPacket {
  const open = openBlockers(view?.blockers);
  const { blocking, gates } = openSplit(view);
  const production =
    status.lane === 'execution' && (status.steps ?? []).some((s) => s.state === 'APPLIED') ? 'production steps applied'
    : status.lane === 'rollback' && (status.steps ?? []).some((s) => s.state === 'ROLLED_BACK') ? 'production steps rolled back'
    : 'nothing production was mutated';
  const whatChanged = [
    `${status.lane} lane ${status.workflowId}: ${status.state}${status.holdReason ? ` (${status.holdReason})` : ''}${status.failure ? ` (${status.failure})` : ''}`,
    ...(status.evidence ? [`evidence packet tree ${status.evidence.treeHash}`] : []),
    ...(status.steps ?? []).filter((s) => s.state === 'APPLIED').map((s) => `step ${s.id} (${s.action}) applied at ${s.appliedAt}`),
    ...(status.steps ?? []).filter((s) => s.state === 'ROLLED_BACK').map((s) => `step ${s.id} (${s.action}) rolled back at ${s.rolledBackAt}`),
    ...(status.probes ? [`${status.probes.failedClosed}/${status.probes.total} bad-input probes fail closed`] : []),
    `rejected envelopes: ${status.rejected.length}`,
    production,
  ];
  const blockedText = blocking.length > 0 ? `BLOCKED (${blocking.length} open blocker${blocking.length === 1 ? '' : 's'})` : 'no open blockers';
  const gatesText = gates.length > 0 ? `; ${gates.length} authorization gate${gates.length === 1 ? '' : 's'} met only by per-lane grants` : '';
  const half = halfApplied(status);
  if (half) {
    // Nothing else is on offer until production is whole again: HOLD, roll back, or resume.
    return {
      changeId: status.changeId,
      workflowId: status.workflowId,
      lane: status.lane,
      outcome: status.state,
      statusLine: `${status.lane}: ${status.state}. Production: ${halfAppliedLine(half)}. Default: HOLD.`,
      whatChanged: [...whatChanged.filter((w) => w !== production), halfAppliedLine(half)],
      default: 'HOLD_PRODUCTION',
      selects: null,
      options: [{ ...DECISION_OPTIONS[0] }, ...recoveryOptions(half)],
      preconditions: open.map((b) => ({ blocker: b.id, status: b.status, actor: b.actor_needed, gate: gates.includes(b) ? `authorization gate: ${b.next_action}` : b.next_action })),
      recommendation: `Hold production: it is half-applied (steps ${half.applied.join(', ')} applied). Then choose one: roll back the applied steps with the rollback lane, or resume from step ${half.resumeFrom} under fresh grants once its cause is fixed.`,
    };
  }
  return {
    changeId: status.changeId,
    workflowId: status.workflowId,
    lane: status.lane,
    outcome: status.state,
    statusLine: `${status.lane}: ${status.state}. Production: ${blockedText}${gatesText}${unchartered(view) ? '; blocker rules not chartered by an owner' : ''}. Default: HOLD.`,
    whatChanged,
    default: 'HOLD_PRODUCTION',
    selects: null,
    options: DECISION_OPTIONS.map((o) => ({ ...o })),
    preconditions: open.map((b) => ({ blocker: b.id, status: b.status, actor: b.actor_needed, gate: gates.includes(b) ? `authorization gate: ${b.next_action}` : b.next_action })),
    recommendation: recommend(status, view),
  };
}

export function decisionMarkdown(p: DecisionPacket): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `# ${p.changeId} — decision packet after the ${p.lane} lane`,
    '',
    'This document selects nothing. Default = HOLD_PRODUCTION.',
    '',
    '## Status line',
    '',
    p.statusLine,
    '',
    '## What changed',
    '',
    ...p.whatChanged.map((w) => `- ${w}`),
    '',
    '## Options (choose exactly one; default HOLD)',
    '',
    ...p.options.map((o, i) => `${i + 1}. ${o.id} — ${o.text}`),
    '',
    '## Preconditions before any production execution',
    '',
    ...(p.preconditions.length === 0
      ? ['No blocker is open.']
      : ['| blocker | status | actor | gate |', '|---|---|---|---|', ...p.preconditions.map((r) => `| ${cell(r.blocker)} | ${cell(r.status)} | ${cell(r.actor)} | ${cell(r.gate)} |`)]),
    '',
    '## Recommendation',
    '',
    p.recommendation,
    '',
  ].join('\n');
}
