/**
 * `lanes packet <workflowId|changeId>`: the decision packet (selects nothing; default HOLD), rendered now from
 * durable state — the lane's status and its change entity — or, with no worker answering, the packet the lane
 * wrote when it ended (this machine's LANES_HOME, else the shared evidence store, LANES_EVIDENCE_URL, only when a
 * worker of LANES_TRUST_ROOT attested it; an unattested one is refused, exit 1). A change id
 * means the change's latest finished lane.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { viewFor, type ChangeState } from '../../domain/change-state';
import { decisionMarkdown, decisionPacket } from '../../domain/decision-packet';
import { changeQuery, changeWorkflowId } from '../../workflows/messages';
import { configFromEnv } from '../../worker/config';
import { connectClient, describeLane, queryStatus } from '../lane-client';
import { cliTrustRoot, openCliEvidence } from '../evidence-access';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, type Command } from './types';

const help = `lanes packet <workflowId|changeId> [--out <file>] [--json]

The decision packet in the seeds' shape: status line, what changed, options (default HOLD), preconditions
table, one recommended next step. Markdown by default, JSON with --json; --out writes it to a file.`;

async function changeState(client: Client, changeId: string): Promise<ChangeState | undefined> {
  try {
    return await client.workflow.getHandle(changeWorkflowId(changeId)).query(changeQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** The lane the argument names: itself if it is a lane, else the latest finished lane of that change. */
async function resolveLane(client: Client, arg: string): Promise<{ workflowId: string; changeId: string; runId?: string }> {
  try {
    const lane = await describeLane(client, arg);
    return { workflowId: lane.workflowId, changeId: lane.changeId, runId: lane.runId };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    const state = await changeState(client, arg).catch(() => undefined);
    if (!state) throw new UserError(`"${arg}" is neither a lane's workflow id nor a change id with a change entity; \`lanes list\` shows both`);
    const latest = state.ledger.at(-1);
    if (!latest) throw new UserError(`change ${arg} has no finished lane yet: a decision packet is written when a lane ends (see \`lanes list --change ${arg}\`)`);
    const runId = await describeLane(client, latest.workflowId).then((l) => l.runId, () => undefined);
    return { workflowId: latest.workflowId, changeId: arg, ...(runId ? { runId } : {}) };
  }
}

export const packet: Command = {
  summary: 'the decision packet of a lane or of a change (default HOLD)',
  help,
  options: { out: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const arg = positional(positionals, 0, 'workflowId|changeId', help);
    const cfg = configFromEnv();
    const client = await connectClient(cfg);
    const { workflowId, changeId, runId } = await resolveLane(client, arg);
    const status = await queryStatus(client, workflowId);
    let text: string;
    if (status) {
      const state = await changeState(client, changeId);
      const p = decisionPacket(status, state ? viewFor(state, []) : undefined);
      text = flags.json ? `${JSON.stringify(p, null, 2)}\n` : decisionMarkdown(p);
    } else {
      // The packet the lane wrote when it ended: on this machine's LANES_HOME, else in the shared evidence store.
      const evidence = openCliEvidence(cfg);
      const key = { changeId, workflowId, ...(runId ? { runId } : {}) };
      const trustRoot = await cliTrustRoot(cfg).catch(async (err: unknown) => {
        await evidence.close();
        throw err;
      });
      // From the shared store only with a worker's attestation (anyone with its URL can write a decisions row).
      const stored = await evidence.stores.readDecision(key, flags.json ? 'json' : 'md', { trustRoot }).finally(evidence.close);
      if (stored !== undefined && 'problem' in stored) throw new UserError(`no worker answered for lane ${workflowId}; ${stored.problem}`);
      if (stored === undefined) {
        const where = `${evidence.stores.decisionBase({ ...key, runId: runId ?? '' })}.${flags.json ? 'json' : 'md'}${evidence.stores.shared ? ` nor in the shared evidence store (${evidence.stores.shared.label})` : ' (LANES_EVIDENCE_URL is not set, so no shared evidence store was asked)'}`;
        throw new UserError(`no worker answered for lane ${workflowId}, and it left no packet at ${where}; start a worker (\`lanes worker\`) and retry`);
      }
      text = stored.text;
      if (stored.attestedBy) process.stderr.write(`decision packet of ${workflowId} from ${stored.from}, attested by worker ${stored.attestedBy.worker.id} (key ${stored.attestedBy.worker.keyId})\n`);
    }
    if (typeof flags.out === 'string') {
      writeFileSync(`${flags.out}.partial`, text);
      renameSync(`${flags.out}.partial`, flags.out);
      process.stderr.write(`decision packet of ${workflowId} written to ${flags.out}\n`);
    } else process.stdout.write(text);
    return 0;
  },
};
