/**
 * `lanes blockers <changeId>`: the change's blocker map as its change entity holds it, or, with `--move`, a signed
 * BLOCKER_UPDATE (owner or operator) that the entity judges under the blocker rules.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { BLOCKER_STATUSES, openBlockers, type BlockerMap, type BlockerProof, type BlockerStatus } from '../../domain/blocker-map';
import { readTrustRootFile } from '../../worker/trust-root-file';
import type { ChangeState } from '../../domain/change-state';
import { blockersQuery, changeQuery, changeWorkflowId, statusQuery } from '../../workflows/messages';
import type { LaneStatus } from '../../domain/lane-status';
import { halfApplied, halfAppliedLine, recoveryOptions, type HalfApplied } from '../../domain/recovery';
import { configFromEnv } from '../../worker/config';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey } from '../key-files';
import { connectClient } from '../lane-client';
import { signingTrustRoot } from '../lane-binding';
import { readChangeSpec } from '../change-file';
import { specHashOf } from '../../domain/bindings';
import { printJson, table } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const help = `lanes blockers <changeId> [--json]
lanes blockers <changeId> --move <blockerId> --to <STATUS> --key <owner|operator key>
               --change <spec> [--evidence-tree <hash> [--input <file>]] [--json]

Shows the change's blocker map (seeds' shape; --json prints it as-is), whether owners chartered its rules, and
per blocker who signed which move with which proof. With --move, signs a BLOCKER_UPDATE: who may move a
blocker, to which status and with which proof is decided by the change's chartered blocker rules. A proof is
checked, not counted: --evidence-tree must be a passed lane of this change of the kind the rule names (never
scoping); --input must be an operator input the lane of --evidence-tree recorded. A move is signed for the spec
in --change (the one you reviewed) and counts for that spec only.
Statuses: ${BLOCKER_STATUSES.join(', ')}.`;

/** Who a key is, as the local trust root names them; the key id alone when there is none to ask. */
type NameOf = (keyId: string) => string;

function describeProof(p: BlockerProof, nameOf: NameOf): string {
  const who = p.role ? `${p.role} ${nameOf(p.by)}` : `lane ${p.workflowId ?? p.by}`;
  const what =
    p.kind === 'operator-input' ? `operator input ${p.inputSha256?.slice(0, 16)}… recorded in evidence tree ${p.treeHash?.slice(0, 16) ?? '?'}…`
    : p.kind === 'evidence' ? `evidence tree ${p.treeHash?.slice(0, 16)}…`
    : p.kind === 'owner-decision' ? "owner's signed decision"
    : p.kind;
  return `${p.from} → ${p.to} by ${who} at ${p.at}: ${what}`;
}

/** The map, the charter that makes its rules bind, and per blocker who signed which move with which proof. */
export function renderBlockers(state: Pick<ChangeState, 'changeId' | 'blockers' | 'charter'>, nameOf: NameOf): string {
  const map = state.blockers!;
  const c = state.charter;
  const charterLine = c?.at
    ? `charter: in force since ${c.at}, signed by ${(c.signers ?? []).map((s) => s.name).join(', ')}`
    : `charter: NOT chartered (${(c?.signers ?? []).length} owner signature${(c?.signers ?? []).length === 1 ? '' : 's'} so far): no blocker moves and no execution opens until owners run \`lanes charter ${state.changeId} --change <spec> --key <owner key>\``;
  const rows = map.blockers.map((b) => [b.id, b.status, b.actor_needed, b.blocks, b.next_action]);
  const proofs = map.blockers
    .filter((b) => (b.proofs ?? []).length > 0)
    .flatMap((b) => [`  ${b.id}`, ...(b.proofs ?? []).map((p, i, all) => `    ${describeProof(p, nameOf)}${p.to === 'CLOSED' && i === all.length - 1 ? '  ← closed it' : ''}`)]);
  return [
    charterLine,
    `${openBlockers(map).length} of ${map.blockers.length} blockers open`,
    table([['BLOCKER', 'STATUS', 'ACTOR', 'BLOCKS', 'NEXT ACTION'], ...rows]),
    ...(proofs.length > 0 ? ['', 'signed moves and proofs:', ...proofs] : []),
    '',
  ].join('\n');
}

async function localNames(): Promise<NameOf> {
  try {
    const { path } = await signingTrustRoot(configFromEnv());
    const root = await readTrustRootFile(path);
    return (keyId) => {
      const k = root.keys.find((x) => x.keyId === keyId);
      return k ? `${k.name} (${keyId})` : keyId;
    };
  } catch {
    return (keyId) => keyId;
  }
}

/**
 * The change's latest production lane (an execution or a rollback), when it is an execution that failed or held with
 * steps applied: read from that lane's own status. Undefined when production is whole, or the lane cannot answer.
 */
async function halfAppliedOf(state: ChangeState, statusOf: (workflowId: string) => Promise<LaneStatus>): Promise<HalfApplied | undefined> {
  const latest = [...state.ledger].reverse().find((e) => e.lane === 'execution' || e.lane === 'rollback');
  if (!latest || latest.lane !== 'execution' || latest.outcome === 'COMPLETED') return undefined;
  return statusOf(latest.workflowId).then(halfApplied, () => undefined);
}

export const blockers: Command = {
  summary: "show a change's blocker map, or move one blocker (signed)",
  help,
  options: { move: { type: 'string' }, to: { type: 'string' }, key: { type: 'string' }, change: { type: 'string' }, 'evidence-tree': { type: 'string' }, input: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const changeId = positional(positionals, 0, 'changeId', help);
    const client = await connectClient(configFromEnv());
    const entity = client.workflow.getHandle(changeWorkflowId(changeId));
    const query = async <T>(name: string): Promise<T> => {
      try {
        return await entity.query<T>(name);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new UserError(`no change "${changeId}": start a lane over it first (\`lanes start scoping --change <spec>\`)`);
        throw err;
      }
    };
    if (typeof flags.move !== 'string') {
      const map = await query<BlockerMap | null>(blockersQuery.name);
      if (!map) throw new UserError(`change ${changeId} has no blocker map (add \`blockers.map\` to its spec)`);
      if (flags.json) printJson(map);
      else {
        const state = await query<ChangeState>(changeQuery.name);
        process.stdout.write(renderBlockers(state, await localNames()));
        // Whatever the map says, a half-applied production stands before any blocker: say so, with the ways on.
        const half = await halfAppliedOf(state, (id) => client.workflow.getHandle(id).query<LaneStatus>(statusQuery.name));
        if (half) process.stdout.write(`\n${halfAppliedLine(half)}; options besides HOLD (the default):\n${recoveryOptions(half).map((o) => `  ${o.id}: ${o.text}`).join('\n')}\n`);
      }
      return 0;
    }
    const to = requiredFlag(flags, 'to', help).toUpperCase();
    if (!(BLOCKER_STATUSES as readonly string[]).includes(to)) throw new UserError(`--to must be one of ${BLOCKER_STATUSES.join(', ')}`, 2);
    const keyPath = requiredFlag(flags, 'key', help);
    const key = readPrivateKey(keyPath);
    const evidenceTree = flags['evidence-tree'] as string | undefined;
    if (evidenceTree !== undefined && !/^[0-9a-f]{64}$/.test(evidenceTree)) throw new UserError('--evidence-tree must be a 64-char sha256 tree hash', 2);
    if (typeof flags.input === 'string' && evidenceTree === undefined) {
      throw new UserError('--input needs --evidence-tree <hash>: the tree of the lane that recorded the input (`lanes input`, then `lanes status <workflowId>` shows its tree); an input no lane of this change recorded proves nothing', 2);
    }
    let inputSha256: string | undefined;
    if (typeof flags.input === 'string') {
      try {
        inputSha256 = createHash('sha256').update(readFileSync(flags.input)).digest('hex');
      } catch (err) {
        throw new UserError(`cannot read --input ${flags.input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
    const before = await query<ChangeState>(changeQuery.name);
    const { fingerprint: trustRoot } = await signingTrustRoot(configFromEnv());
    // A move counts for one spec of the change: the one the signer reviewed (not whatever the entity says it runs).
    if (typeof flags.change !== 'string') throw new UserError(`--move needs --change <spec>: a blocker move is signed for the spec you reviewed, and counts for that spec only\n\n${help}`, 2);
    const reviewed = readChangeSpec(flags.change);
    if (reviewed.id !== changeId) throw new UserError(`--change ${flags.change} is change ${reviewed.id}, not ${changeId}`, 2);
    const specHash = specHashOf(reviewed);
    const envelope = makeEnvelope({
      key,
      trustRoot,
      specHash,
      workflowId: changeWorkflowId(changeId),
      changeId,
      action: 'BLOCKER_UPDATE',
      blockerId: flags.move,
      blockerStatus: to as BlockerStatus,
      validForMs: 10 * 60_000,
      evidenceTree,
      inputSha256,
    });
    await entity.signal('blockerUpdate', envelope);
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const st = await query<ChangeState>(changeQuery.name);
      const rejected = st.rejected.slice(before.rejected.length).find((r) => r.blockerId === flags.move || r.keyId === key.keyId);
      const moved = st.blockers?.blockers.find((b) => b.id === flags.move)?.proofs?.some((p) => p.by === key.keyId && p.to === to && st.version > before.version);
      if (rejected || moved) {
        const verdict = moved ? { result: 'accepted', reason: null } : { result: 'rejected', reason: rejected!.reason };
        if (flags.json) printJson({ ...verdict, blockerId: flags.move, to });
        else process.stdout.write(`${flags.move} → ${to}: ${verdict.result}${verdict.reason ? `: ${verdict.reason}` : ''}\n`);
        return moved ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    process.stdout.write('queued: the change entity recorded no verdict yet (is a worker running?)\n');
    return 0;
  },
};
