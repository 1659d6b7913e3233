/**
 * `lanes history <workflowId>`: the lane's Temporal history as people read it — who started it, who granted,
 * held or revoked what and when (with the lane's verdict), which activities ran, how the state moved, how it
 * ended — plus the Web UI link for the full event list.
 */
import type { temporal } from '@temporalio/proto';
import { envelopeIdOf } from '../../domain/envelope-rules';
import type { LaneStatus } from '../../domain/lane-status';
import { configFromEnv, workflowUiLink } from '../../worker/config';
import { readTrustRootFile } from '../../worker/trust-root-file';
import { connectClient, decodePayload, describeLane, queryStatus, verdictOf } from '../lane-client';
import { printJson, table } from '../output';
import { JSON_FLAG, positional, type Command } from './types';

const help = `lanes history <workflowId> [--json]

A compact, readable event list: starts, grants/holds/revocations (signer, action, verdict), activities,
state changes and the ending, each with its time; and the lane's Web UI link for everything else.
Signer names come from the trust root (LANES_TRUST_ROOT) when it is readable, else key ids are shown.`;

export interface HistoryLine {
  time: string;
  what: string;
  detail: string;
}

type Event = temporal.api.history.v1.IHistoryEvent;
type Envelope = { payload?: { action?: string; keyId?: string; expiresAt?: string; evidenceTree?: string; revokes?: string; inputKind?: string; inputSha256?: string } };


function timeOf(e: Event): string {
  const t = e.eventTime;
  if (!t?.seconds) return '';
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Turns events into lines; `who` names a key id, `verdict` says what the lane made of an envelope. */
export function historyLines(events: Event[], lane: string, who: (keyId?: string) => string, verdict: (envelope: unknown) => string): HistoryLine[] {
  const lines: HistoryLine[] = [];
  const activities = new Map<string, string>();
  for (const e of events) {
    const time = timeOf(e);
    const add = (what: string, detail: string) => lines.push({ time, what, detail });
    if (e.workflowExecutionStartedEventAttributes) {
      const input = decodePayload(e.workflowExecutionStartedEventAttributes.input?.payloads?.[0]) as { start?: Envelope; shaped?: boolean } | undefined;
      add('started', `${lane} lane, signed by ${who(input?.start?.payload?.keyId)}${input?.shaped ? ' (production-shaped)' : ''}`);
    } else if (e.workflowExecutionSignaledEventAttributes) {
      const a = e.workflowExecutionSignaledEventAttributes;
      const env = decodePayload(a.input?.payloads?.[0]) as Envelope | undefined;
      if (['grant', 'hold', 'revoke'].includes(a.signalName ?? '')) {
        const p = env?.payload;
        const extra = [p?.evidenceTree && `tree ${p.evidenceTree.slice(0, 12)}…`, p?.expiresAt && `expires ${p.expiresAt}`].filter(Boolean).join(', ');
        add(a.signalName!, `${p?.action ?? '?'} by ${who(p?.keyId)}${extra ? ` (${extra})` : ''} → ${verdict(env)}`);
      } else if (a.signalName === 'input') {
        const env = (decodePayload(a.input?.payloads?.[0]) as { envelope?: Envelope } | undefined)?.envelope;
        const p = env?.payload;
        add('input', `${p?.inputKind ?? '?'} (sha256 ${p?.inputSha256?.slice(0, 12) ?? '?'}…) by ${who(p?.keyId)} → ${verdict(env)}`);
      } else if (a.signalName === 'changeView') add('change view', 'blockers, ledger and nonce claims from the change entity');
    } else if (e.activityTaskScheduledEventAttributes) {
      const name = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      activities.set(String(e.eventId), name);
      add('activity', `${name} scheduled${e.activityTaskScheduledEventAttributes.taskQueue?.name?.endsWith('-production') ? ' on the production queue' : ''}`);
    } else if (e.activityTaskCompletedEventAttributes) {
      add('activity', `${activities.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId)) ?? '?'} completed`);
    } else if (e.activityTaskFailedEventAttributes) {
      const f = e.activityTaskFailedEventAttributes;
      add('activity', `${activities.get(String(f.scheduledEventId)) ?? '?'} FAILED: ${f.failure?.message ?? ''}`);
    } else if (e.upsertWorkflowSearchAttributesEventAttributes) {
      const state = decodePayload(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields?.LaneState);
      const missing = decodePayload(e.upsertWorkflowSearchAttributesEventAttributes.searchAttributes?.indexedFields?.GrantsMissing);
      if (state !== undefined) add('state', `${String(state)}${Array.isArray(missing) && missing.length ? ` (missing ${missing.join(', ')})` : ''}`);
    } else if (e.workflowExecutionCompletedEventAttributes) {
      const r = decodePayload(e.workflowExecutionCompletedEventAttributes.result?.payloads?.[0]) as Partial<LaneStatus> | undefined;
      add('ended', `${r?.state ?? 'completed'}${r?.holdReason ? ` — ${r.holdReason}` : ''}${r?.evidence ? ` — evidence tree ${r.evidence.treeHash}` : ''}`);
    } else if (e.workflowExecutionFailedEventAttributes) {
      add('ended', `FAILED — ${e.workflowExecutionFailedEventAttributes.failure?.message ?? ''}`);
    } else if (e.workflowExecutionTerminatedEventAttributes) {
      add('ended', `terminated — ${e.workflowExecutionTerminatedEventAttributes.reason ?? ''}`);
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      add('ended', 'continued as new');
    }
  }
  return lines;
}

export const history: Command = {
  summary: "a lane's history, readable: who granted what and when; its UI link",
  help,
  options: { ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', help);
    const cfg = configFromEnv();
    const client = await connectClient(cfg);
    const { lane } = await describeLane(client, workflowId); // a clear error for an unknown id or a workflow that is no lane
    const events: Event[] = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const names = new Map<string, string>();
    if (cfg.trustRootPath) {
      const root = await readTrustRootFile(cfg.trustRootPath).catch(() => undefined);
      for (const k of root?.keys ?? []) names.set(k.keyId, `${k.name} (${k.role})`);
    }
    const status = await queryStatus(client, workflowId, 3000);
    const who = (keyId?: string) => (keyId ? (names.get(keyId) ?? `key ${keyId}`) : 'unknown key');
    const verdict = (env: unknown): string => {
      if (!status) return 'verdict unknown (no worker answered)';
      const id = envelopeIdOf(env);
      const v = verdictOf(status, id);
      if (v && 'taken' in v) return v.taken === 'hold' ? 'accepted (HOLD)' : 'accepted';
      if (v) return `rejected: ${v.rejected}`;
      return id && status.revoked.includes(id) ? 'accepted, later revoked' : 'judged (no longer current)';
    };
    const lines = historyLines(events, lane, who, verdict);
    const ui = workflowUiLink(cfg, workflowId);
    if (flags.json) printJson({ workflowId, ui, events: lines });
    else process.stdout.write(`${workflowId}\nui: ${ui}\n\n${table([['TIME', 'WHAT', 'DETAIL'], ...lines.map((l) => [l.time, l.what, l.detail])])}\n`);
    return 0;
  },
};
