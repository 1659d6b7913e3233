/**
 * `lanes charter <changeId> --change <spec> --key <owner key>`: an owner approves a change's blocker map and rules.
 * Until as many distinct owners as the trust root's `thresholds.CHARTER` have, the rules the operator wrote bind
 * nobody: no blocker moves and no execution lane's gate opens. What is signed is shown in full first.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { charterHashOf } from '../../domain/charter';
import { specHashOf } from '../../domain/bindings';
import { ruleFor } from '../../domain/blocker-rules';
import type { ChangeState } from '../../domain/change-state';
import { changeQuery, changeWorkflowId, charterSignal } from '../../workflows/messages';
import { configFromEnv } from '../../worker/config';
import { readChangeSpec } from '../change-file';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey, requireRole } from '../key-files';
import { connectClient, ensureChangeEntity } from '../lane-client';
import { signingTrustRoot } from '../lane-binding';
import { envelopeIdOf } from '../../domain/envelope-rules';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const help = `lanes charter <changeId> --change <spec> --key <owner key> [--json]

Signs, as an owner, the blocker map and rules of the spec in --change (the one you reviewed), or that it declares
none: until the owners charter them, no blocker of the change moves and no execution lane's gate opens. The trust root's
thresholds.CHARTER says how many distinct owners must sign (default 1). A spec whose map or rules differ in
anything needs its own charter; one that changes only its SQL keeps it.`;

const shown = (text: string) => JSON.stringify(text);

export const charter: Command = {
  summary: "approve a change's blocker map and rules (owner, signed)",
  help,
  options: { change: { type: 'string' }, key: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const changeId = positional(positionals, 0, 'changeId', help);
    const spec = readChangeSpec(requiredFlag(flags, 'change', help));
    if (spec.id !== changeId) throw new UserError(`--change ${String(flags.change)} is change ${spec.id}, not ${changeId}`, 2);
    const keyPath = requiredFlag(flags, 'key', help);
    const key = readPrivateKey(keyPath);
    requireRole(key, 'owner', keyPath, 'chartering blocker rules');
    const cfg = configFromEnv();
    const { fingerprint: trustRoot } = await signingTrustRoot(cfg);
    const charterHash = charterHashOf({ changeId, blockers: spec.blockers });
    // What the signature covers, each blocker with the rule that will move it: nothing is signed unseen.
    process.stderr.write(
      [
        spec.blockers
          ? `chartering the blocker map and rules of change ${shown(changeId)} (charter ${charterHash})`
          : `chartering that change ${shown(changeId)} has NO blocker map: nothing but its grants will stand between its executions and production (charter ${charterHash})`,
        ...(spec.blockers?.map.blockers ?? []).map((b) => {
          const r = ruleFor(b, spec.blockers!.rules);
          const how = r.grants ? `met only by ${r.grants.join(', ')} grants in an execution lane` : r.laneProof ? `moved to ${r.laneProof.to} by a passed ${r.laneProof.shaped ? 'shaped ' : ''}${r.laneProof.lane} lane; closed by signed moves of ${r.roles.join(' + ')}` : `closed by signed moves of ${r.roles.join(' + ')}${r.needsTechnicalProof ? ' with a technical proof' : ''}`;
          return `  ${shown(b.id)} ${b.status}, actor ${shown(b.actor_needed)}, blocks ${shown(b.blocks)}: ${how}`;
        }),
        `  trust root ${trustRoot}`,
        '',
      ].join('\n'),
    );
    const client = await connectClient(cfg);
    const entity = client.workflow.getHandle(changeWorkflowId(changeId));
    // An owner may charter before any lane ran: the entity is created from the reviewed spec if it does not exist.
    await ensureChangeEntity(client, spec, cfg.taskQueue);
    const before = await entity.query<ChangeState>(changeQuery.name).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) throw new UserError(`no change entity for ${changeId}`);
      throw err;
    });
    if (before.charter && before.charter.hash !== charterHash) {
      throw new UserError(`change ${changeId} holds another blocker map or rules (charter ${before.charter.hash.slice(0, 16)}…) than the spec in --change (${charterHash.slice(0, 16)}…); nothing was signed`);
    }
    const envelope = makeEnvelope({ key, trustRoot, specHash: specHashOf(spec), workflowId: changeWorkflowId(changeId), changeId, action: 'CHARTER', charterHash, validForMs: 10 * 60_000 });
    const id = envelopeIdOf(envelope)!;
    await entity.signal(charterSignal, envelope);
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const st = await entity.query<ChangeState>(changeQuery.name);
      const rejected = st.rejected.find((r) => r.id === id);
      const kept = st.charter?.envelopes.some((e) => envelopeIdOf(e) === id);
      if (rejected || kept) {
        const signers = st.charter?.signers?.map((s) => s.name) ?? [];
        const result = rejected ? 'rejected' : st.charter?.at ? 'chartered' : 'signed';
        const reason = rejected ? rejected.reason : st.charter?.at ? `in force since ${st.charter.at}, signed by ${signers.join(', ')}` : `signed by ${signers.join(', ')}; more owners must sign (trust root thresholds.CHARTER)`;
        if (flags.json) printJson({ result, reason, changeId, charterHash, signers });
        else process.stdout.write(`charter of ${changeId}: ${result}: ${reason}\n`);
        return rejected ? 1 : 0;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    process.stdout.write(`charter of ${changeId}: the verdict is not known yet (no worker answered in 15 s); see \`lanes blockers ${changeId}\`\n`);
    return 0;
  },
};
