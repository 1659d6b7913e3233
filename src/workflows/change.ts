/**
 * The change entity, workflow `change:<changeId>`: one per change, long-lived. It holds the blocker map and the
 * ledger of lanes run (outcome, evidence tree, spec hash), decides which lane used each grant nonce first (so a
 * nonce is single-use across the whole change), keeps the owners' CHARTER of its blocker map and rules, applies
 * signed BLOCKER_UPDATE moves under those rules once they are chartered (before that, nothing moves), and tells
 * every running lane of the change what it needs to know through a ChangeView.
 */
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { LaneActivities } from '../activities';
import { verifyEnvelope } from '../domain/envelope-rules';
import { verifyEd25519Strict } from '../domain/keys';
import { applyLaneOutcome, moveBlocker } from '../domain/blocker-rules';
import { openBlockers } from '../domain/blocker-map';
import { initialChangeState, viewFor, type ChangeInput, type ChangeState } from '../domain/change-state';
import { charterHashOf, judgeCharter } from '../domain/charter';
import { envelopeIdOf } from '../domain/envelope-rules';
import { MAX_REJECTED_KEPT } from '../domain/grant-book';
import type { TrustRoot } from '../domain/trust-root';
import { SA_BLOCKERS_OPEN, SA_CHANGE_ID } from '../domain/search-attributes';
import {
  blockersQuery,
  blockerUpdateSignal,
  changeQuery,
  changeViewSignal,
  changeWorkflowId,
  charterSignal,
  laneFinishedSignal,
  laneStartedSignal,
  nonceClaimSignal,
} from './messages';

const { loadTrustRoot } = proxyActivities<LaneActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
  summary: 'load the trust root to judge a blocker update',
});

/** Continue-as-new well before Temporal's history limits; the state carries over whole. */
const MAX_HISTORY_EVENTS = 5000;

export async function changeEntity(input: ChangeInput): Promise<void> {
  const state: ChangeState = initialChangeState(input);
  const self = changeWorkflowId(state.changeId);
  const stale = new Set<string>(state.active.map((l) => l.workflowId));
  const updates: { signal: 'blockerUpdate' | 'charter'; raw: unknown }[] = [];
  // An entity begun by an earlier release has no charter yet: its map and rules await one like any other.
  state.charter ??= { hash: charterHashOf({ changeId: state.changeId, blockers: state.blockers ? { map: state.blockers, rules: state.rules } : undefined }), envelopes: [] };
  const touch = (...lanes: string[]) => {
    state.version += 1;
    for (const l of lanes) stale.add(l);
  };
  const everyLane = () => state.active.map((l) => l.workflowId);

  setHandler(changeQuery, () => JSON.parse(JSON.stringify(state)) as ChangeState);
  setHandler(blockersQuery, () => state.blockers ?? null);
  setHandler(laneStartedSignal, (lane) => {
    if (state.ledger.some((e) => e.workflowId === lane.workflowId)) return;
    if (!state.active.some((l) => l.workflowId === lane.workflowId)) state.active.push({ ...lane, nonces: [] });
    touch(lane.workflowId);
  });
  setHandler(nonceClaimSignal, ({ workflowId, nonces }) => {
    const lane = state.active.find((l) => l.workflowId === workflowId);
    for (const n of nonces) {
      state.nonceClaims[n] ??= workflowId;
      if (lane && !lane.nonces.includes(n)) lane.nonces.push(n);
    }
    touch(workflowId);
  });
  setHandler(laneFinishedSignal, (entry) => {
    if (state.ledger.some((e) => e.workflowId === entry.workflowId)) return; // reported twice: once counts
    state.ledger.push(entry);
    // Rules bind only once chartered: a lane outcome moves nothing before that.
    if (state.blockers && (state.charter?.at || !patched('blocker-charter'))) state.blockers = applyLaneOutcome(state.blockers, state.rules, entry);
    state.active = state.active.filter((l) => l.workflowId !== entry.workflowId);
    stale.delete(entry.workflowId);
    touch(...everyLane());
  });
  setHandler(blockerUpdateSignal, (raw) => void updates.push({ signal: 'blockerUpdate', raw }));
  setHandler(charterSignal, (raw) => void updates.push({ signal: 'charter', raw }));

  upsertSearchAttributes([{ key: SA_CHANGE_ID, value: state.changeId }]);
  for (;;) {
    publish(state);
    await condition(() => stale.size > 0 || updates.length > 0 || workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS);
    if (updates.length > 0) await judgeUpdates(state, self, updates.splice(0), touch, everyLane);
    for (const workflowId of [...stale]) {
      stale.delete(workflowId);
      const lane = state.active.find((l) => l.workflowId === workflowId);
      if (!lane) continue;
      await getExternalWorkflowHandle(workflowId)
        .signal(changeViewSignal, viewFor(state, lane.nonces))
        .catch(() => {
          // The lane is gone (terminated, or ended without reporting): stop telling it things.
          state.active = state.active.filter((l) => l.workflowId !== workflowId);
        });
    }
    if (stale.size === 0 && updates.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS)) {
      await continueAsNew<typeof changeEntity>({ changeId: state.changeId, state });
    }
  }
}

async function judgeUpdates(
  state: ChangeState,
  self: string,
  received: { signal: 'blockerUpdate' | 'charter'; raw: unknown }[],
  touch: (...l: string[]) => void,
  everyLane: () => string[],
): Promise<void> {
  const at = () => new Date(Date.now()).toISOString();
  const refuse = (raw: unknown, code: string, reason: string, blockerId?: string, signal: 'blockerUpdate' | 'charter' = 'blockerUpdate') => {
    const id = envelopeIdOf(raw);
    state.rejected.push({ ...(id ? { id } : {}), receivedAt: at(), signal, code: code as never, reason, ...(blockerId ? { blockerId } : {}) });
    if (state.rejected.length > MAX_REJECTED_KEPT) state.rejected.shift();
    touch();
  };
  let trustRoot: TrustRoot;
  try {
    trustRoot = await loadTrustRoot();
  } catch (err) {
    for (const { raw, signal } of received) refuse(raw, 'UNKNOWN_KEY', `cannot load the trust root: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`, undefined, signal);
    return;
  }
  state.trustRootFingerprint = trustRoot.fingerprint;
  const chartering = patched('blocker-charter');
  for (const { signal, raw } of received) {
    if (signal === 'charter') {
      judgeCharterEnvelope(state, self, trustRoot, raw, (code, reason) => refuse(raw, code, reason, undefined, 'charter'));
      touch(...everyLane());
      continue;
    }
    const used = new Set(Object.keys(state.nonceClaims));
    const verdict = verifyEnvelope(
      raw,
      { trustRoot, workflowId: self, changeId: state.changeId, lane: undefined, anySpec: true, acceptedActions: ['BLOCKER_UPDATE'], nowMs: Date.now(), usedNonces: used },
      verifyEd25519Strict,
    );
    if (!verdict.ok) {
      refuse(raw, verdict.code, verdict.reason);
      continue;
    }
    const { payload, signer, id } = verdict.envelope;
    state.nonceClaims[payload.nonce] = self;
    if (!state.blockers) {
      refuse(raw, 'ACTION_NOT_HERE', `change ${state.changeId} has no blocker map`, payload.blockerId);
      continue;
    }
    if (chartering && !state.charter?.at) {
      refuse(raw, 'UNCHARTERED', `the blocker map and rules of change ${state.changeId} are not chartered by its owners yet, so no blocker moves (\`lanes charter ${state.changeId} --change <spec> --key <owner key>\`)`, payload.blockerId);
      continue;
    }
    const moved = moveBlocker(
      state.blockers,
      state.rules,
      {
        blockerId: payload.blockerId!,
        to: payload.blockerStatus!,
        signer: { keyId: signer.keyId, role: signer.role, person: signer.person },
        envelopeId: id,
        envelope: raw,
        at: at(),
        ...(payload.evidenceTree ? { treeHash: payload.evidenceTree } : {}),
        ...(payload.inputSha256 ? { inputSha256: payload.inputSha256 } : {}),
      },
      state.ledger,
      { checkedProofs: chartering },
    );
    if (!moved.ok) {
      refuse(raw, moved.code, moved.reason, payload.blockerId);
      continue;
    }
    state.blockers = moved.map;
    touch(...everyLane());
  }
}

/**
 * One CHARTER envelope: kept when it is a valid owner's for this entity's map and rules; the charter takes effect
 * (`at`) once the trust root's threshold of distinct owners has signed. A chartered map stays chartered.
 */
function judgeCharterEnvelope(state: ChangeState, self: string, trustRoot: TrustRoot, raw: unknown, refuse: (code: string, reason: string) => void): void {
  if (!state.charter) return refuse('ACTION_NOT_HERE', `change ${state.changeId} has no charter to sign`);
  const verdict = verifyEnvelope(
    raw,
    { trustRoot, workflowId: self, changeId: state.changeId, lane: undefined, anySpec: true, acceptedActions: ['CHARTER'], nowMs: Date.now(), usedNonces: new Set(Object.keys(state.nonceClaims)) },
    verifyEd25519Strict,
  );
  if (!verdict.ok) return refuse(verdict.code, verdict.reason);
  state.nonceClaims[verdict.envelope.payload.nonce] = self;
  if (verdict.envelope.payload.charterHash !== state.charter.hash) {
    return refuse('OTHER_CHARTER', `the charter signed ${verdict.envelope.payload.charterHash!.slice(0, 16)}…, but this change's blocker map and rules hash to ${state.charter.hash.slice(0, 16)}… (the entity holds the map of the spec it was first started with)`);
  }
  state.charter.envelopes.push(raw);
  if (state.charter.at) return;
  const judged = judgeCharter(state.charter.envelopes, { changeId: state.changeId, blockers: state.blockers ? { map: state.blockers, rules: state.rules } : undefined }, { trustRoot, entityWorkflowId: self }, verifyEd25519Strict);
  // The entity's map may have moved since it was declared, so it is judged against the hash the entity holds.
  state.charter.signers = judged.signers.map(({ keyId, name, person }) => ({ keyId, name, person }));
  if (judged.ok) state.charter.at = new Date(Date.now()).toISOString();
}

/** Search attributes and UI details: how many blockers are open, and which. */
function publish(state: ChangeState): void {
  const open = openBlockers(state.blockers);
  upsertSearchAttributes([{ key: SA_BLOCKERS_OPEN, value: open.length }]);
  setCurrentDetails(
    [
      `**Change ${state.changeId}** — ${open.length} blocker${open.length === 1 ? '' : 's'} open, ${state.ledger.length} lane${state.ledger.length === 1 ? '' : 's'} finished, ${state.active.length} running`,
      '',
      ...open.map((b) => `- \`${b.id}\` ${b.status} — ${b.next_action}`),
    ].join('\n'),
  );
}
