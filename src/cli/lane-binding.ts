/**
 * What a signature on a lane is bound to, as the signer's CLI learns it (DESIGN.md §Grants): the lane's run id
 * (from the server), the canonical hash of the change spec the run was started with (from its first history
 * event, parsed with the same schema the workers use) and the trust root the operator signed the start under.
 * Read from history, so no worker needs to be running; shown to the signer before anything is signed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { changeSpecSchema, productionTarget, type ChangeSpec } from '../domain/change-spec';
import { CLOCK_SKEW_MS, claimedIssueTime, envelopeIdOf, verifyEnvelope } from '../domain/envelope-rules';
import { verifyEd25519Node } from '../worker/node-signature';
import { specHashOf } from '../domain/bindings';
import { readTrustRootFile } from '../worker/trust-root-file';
import { limitsOf, type TrustLimits } from '../domain/trust-root';
import { usesNamedCluster, type LanesConfig } from '../worker/config';
import type { LaneIdentity } from './lane-client';
import { decodePayload } from './lane-client';
import { UserError } from './user-error';

export interface LaneBinding {
  /** The lane's signed START, as its first history event holds it. */
  start: unknown;
  runId: string;
  specHash: string;
  /** The id of the lane's START: the owner approves the lane this operator started. */
  startId: string;
  /** The key that signed the START, as it names itself (verified by the lane, shown to the signer). */
  startedBy: string;
  /** The trust root fingerprint the lane's start names. */
  trustRoot: string;
  change: ChangeSpec;
}

export async function laneBinding(client: Client, lane: LaneIdentity): Promise<LaneBinding> {
  const page = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: lane.workflowId, runId: lane.runId },
    maximumPageSize: 1,
  });
  const first = page.history?.events?.[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  const input = decodePayload(started?.input?.payloads?.[0]) as { change?: unknown; start?: { payload?: { trustRoot?: unknown } } } | undefined;
  const parsed = changeSpecSchema.safeParse(input?.change);
  if (!parsed.success) throw new UserError(`lane ${lane.workflowId} was not started with a valid change spec; nothing was signed`);
  const trustRoot = input?.start?.payload?.trustRoot;
  if (typeof trustRoot !== 'string' || !/^[0-9a-f]{64}$/.test(trustRoot)) {
    throw new UserError(`lane ${lane.workflowId} has no signed start naming a trust root; nothing was signed`);
  }
  const startId = envelopeIdOf(input?.start);
  if (!startId) throw new UserError(`lane ${lane.workflowId} has no signed start; nothing was signed`);
  // A start is signed minutes before its run begins. One much older was copied out of history into a reused id.
  const sp = (input?.start as { payload?: { issuedAt?: unknown; expiresAt?: unknown } }).payload;
  const began = Number(first?.eventTime?.seconds ?? 0) * 1000;
  if (began && !(Date.parse(String(sp?.issuedAt)) - CLOCK_SKEW_MS <= began && began <= Date.parse(String(sp?.expiresAt)))) {
    throw new UserError(`lane ${lane.workflowId} (run ${lane.runId}) began at ${new Date(began).toISOString()}, outside its start's validity (${String(sp?.issuedAt)} – ${String(sp?.expiresAt)}): a start replayed from another run; nothing was signed`);
  }
  const keyId = (input?.start as { payload?: { keyId?: unknown } } | undefined)?.payload?.keyId;
  return { runId: lane.runId, specHash: specHashOf(parsed.data), start: input?.start, startId, startedBy: `key ${String(keyId)}`, trustRoot, change: parsed.data };
}

/**
 * The trust root a signer signs under: LANES_TRUST_ROOT, else the development one `npm start` made. Its
 * fingerprint goes into every envelope, and workers refuse envelopes naming any other.
 */
export async function signingTrustRoot(cfg: LanesConfig): Promise<{ path: string; fingerprint: string; limits: TrustLimits }> {
  if (!cfg.trustRootPath && usesNamedCluster()) {
    throw new UserError('no trust root to sign under: TEMPORAL_ADDRESS names a Temporal server of your own, where the development trust root is never used; set LANES_TRUST_ROOT to the trust root file your workers use', 2);
  }
  const path = cfg.trustRootPath ?? join(cfg.lanesHome, 'trust-root.json');
  if (!cfg.trustRootPath && !existsSync(path)) {
    throw new UserError(`no trust root to sign under: set LANES_TRUST_ROOT to the trust root file the workers use (\`npm start\` makes a development one at ${path})`, 2);
  }
  const root = await readTrustRootFile(path).catch((err: Error) => {
    throw new UserError(err.message, 2);
  });
  return { path, fingerprint: root.fingerprint, limits: root.limits };
}

/**
 * Refuses to sign when the signer's own trust root differs from the one the lane was started under, or when the
 * lane's start does not verify under it. Returns who started the lane, as the signer's trust root names them, and
 * the limits that trust root sets (the defaults when there is none to read here).
 */
export async function checkSignerTrustRoot(cfg: LanesConfig, lane: LaneIdentity, binding: LaneBinding): Promise<{ startedBy: string; limits: TrustLimits }> {
  if (!cfg.trustRootPath && usesNamedCluster()) {
    throw new UserError('set LANES_TRUST_ROOT to your trust root file: on a Temporal server of your own (TEMPORAL_ADDRESS) the signer checks who started the lane under it before signing; nothing was signed', 2);
  }
  const path = cfg.trustRootPath ?? join(cfg.lanesHome, 'trust-root.json');
  if (!existsSync(path)) return { startedBy: `${binding.startedBy} (unverified here: set LANES_TRUST_ROOT to check it)`, limits: limitsOf({}) };
  const mine = await readTrustRootFile(path).catch((err: Error) => {
    throw new UserError(err.message, 2);
  });
  if (mine.fingerprint !== binding.trustRoot) {
    throw new UserError(
      `the lane was started under trust root ${binding.trustRoot.slice(0, 16)}…, but your trust root ${path} is ${mine.fingerprint.slice(0, 16)}…; nothing was signed (see README: rotating the trust root)`,
    );
  }
  const v = verifyEnvelope(
    binding.start,
    { trustRoot: mine, workflowId: lane.workflowId, changeId: binding.change.id, lane: lane.lane, specHash: binding.specHash, acceptedActions: ['START_LANE'], nowMs: claimedIssueTime(binding.start), usedNonces: new Set() },
    verifyEd25519Node,
  );
  if (!v.ok) throw new UserError(`the lane's start does not verify under your trust root (${v.reason}); nothing was signed`);
  return { startedBy: `${v.envelope.signer.name} (operator key ${v.envelope.signer.keyId})`, limits: mine.limits };
}

/** Text from a spec, shown safely: one line, control characters escaped, so no text can hide or forge a line. */
const shown = (text: string) => JSON.stringify(text);

/**
 * For the signer, before signing: what the signature covers — the lane and run, who started it, and the whole spec
 * it binds: target, surface and allowances, every step's action, apply and rollback SQL in full, the declared
 * blocker map and rules, and the trust root. `--change <file>` checks the hash against the spec you reviewed.
 */
export function describeBinding(lane: LaneIdentity, b: LaneBinding, action: string, startedBy: string): string {
  const c = b.change;
  const target = productionTarget(c);
  const where = target.engine === 'pglite' ? `PGlite ${shown(target.name)}` : `PostgreSQL at $${target.urlEnv}`;
  const allow = (c.surface as { allow?: string[] } | undefined)?.allow ?? [];
  return [
    `signing ${action} for the ${lane.lane} lane ${shown(lane.workflowId)} (run ${b.runId}), started by ${startedBy}`,
    `  change ${shown(c.id)} ${shown(c.title)}, spec ${b.specHash}`,
    `  production ${where}; surface tables ${shown((c.surface?.tables ?? []).join(', '))}, functions ${shown((c.surface?.functions ?? []).join(', '))}${allow.length ? `, allows ${shown(allow.join(', '))}` : ''}`,
    ...c.steps.flatMap((s) => [`  step ${shown(s.id)} (${s.action})`, `    apply:    ${shown(s.apply)}`, `    rollback: ${shown(s.rollback)}`]),
    ...(c.blockers
      ? [`  declared blockers: ${c.blockers.map.blockers.map((x) => `${shown(x.id)}=${x.status}`).join(', ')}`, `  blocker rules: ${shown(JSON.stringify(c.blockers.rules ?? {}))}`]
      : ['  declared blockers: none']),
    `  trust root ${b.trustRoot}`,
    '',
  ].join('\n');
}

/** `--change <file>`: the spec the signer reviewed must be, byte for byte in canonical form, the one the lane runs. */
export function checkReviewedSpec(b: LaneBinding, reviewed: ChangeSpec | undefined): void {
  if (reviewed && specHashOf(reviewed) !== b.specHash) {
    throw new UserError(`the lane runs spec ${b.specHash.slice(0, 16)}…, not the one in --change (${specHashOf(reviewed).slice(0, 16)}…); nothing was signed`);
  }
}

/** The envelope fields a binding fills in. */
export function bindingFields(b: LaneBinding): { runId: string; specHash: string; startId: string; trustRoot: string } {
  return { runId: b.runId, specHash: b.specHash, startId: b.startId, trustRoot: b.trustRoot };
}
