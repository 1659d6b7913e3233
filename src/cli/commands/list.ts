/** `lanes list [--change <id>] [--state <s>] [--lane <kind>]`: lanes from visibility (search attributes), newest first. */
import { CHANGE_ID } from '../../domain/envelope';
import { LANE_KINDS, LANE_STATES } from '../../domain/vocabulary';
import { SA_CHANGE_ID, SA_GRANTS_MISSING, SA_LANE_KIND, SA_LANE_STATE } from '../../domain/search-attributes';
import { configFromEnv } from '../../worker/config';
import { connectClient } from '../lane-client';
import { printJson, table } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, type Command } from './types';

const help = `lanes list [--change <changeId>] [--state <${LANE_STATES.join('|')}>] [--lane <${LANE_KINDS.join('|')}>] [--limit N] [--json]

Lanes as the server's visibility store sees them (search attributes ChangeId, LaneKind, LaneState,
GrantsMissing), newest first. Works with no worker running.`;

function oneOf(value: string | boolean | undefined, allowed: readonly string[], flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !allowed.includes(value)) throw new UserError(`--${flag} must be one of ${allowed.join(', ')} (got "${String(value)}")\n\n${help}`, 2);
  return value;
}

export const list: Command = {
  summary: 'list lanes, filtered by change, state or lane kind',
  help,
  options: { change: { type: 'string' }, state: { type: 'string' }, lane: { type: 'string' }, limit: { type: 'string' }, ...JSON_FLAG },
  async run(flags) {
    const change = flags.change;
    if (change !== undefined && (typeof change !== 'string' || !CHANGE_ID.test(change))) throw new UserError(`--change "${String(change)}" is not a change id (letters, digits, ".", "_", "-")`, 2);
    const state = oneOf(flags.state, LANE_STATES, 'state');
    const lane = oneOf(flags.lane, LANE_KINDS, 'lane');
    const limit = flags.limit === undefined ? 50 : Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UserError(`--limit must be a positive whole number (got "${String(flags.limit)}")`, 2);
    // Every value is checked against a closed set or a strict pattern above, so quoting cannot be escaped.
    const clauses = [`LaneKind IN (${(lane ? [lane] : LANE_KINDS).map((k) => `'${k}'`).join(', ')})`];
    if (change) clauses.push(`ChangeId = '${change}'`);
    if (state) clauses.push(`LaneState = '${state}'`);
    const client = await connectClient(configFromEnv());
    const rows = [];
    for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
      const sa = w.typedSearchAttributes;
      rows.push({
        workflowId: w.workflowId,
        changeId: sa.get(SA_CHANGE_ID) ?? '',
        lane: sa.get(SA_LANE_KIND) ?? '',
        state: sa.get(SA_LANE_STATE) ?? '',
        grantsMissing: sa.get(SA_GRANTS_MISSING) ?? [],
        status: w.status.name,
        startTime: w.startTime.toISOString(),
      });
      if (rows.length >= limit) break;
    }
    if (flags.json) printJson(rows);
    else if (rows.length === 0) process.stdout.write('no lanes match\n');
    else {
      const body = rows.map((r) => [r.workflowId, r.changeId, r.lane, r.state, r.grantsMissing.join(',') || '-', r.startTime.replace(/\.\d+Z$/, 'Z')]);
      process.stdout.write(`${table([['WORKFLOW ID', 'CHANGE', 'LANE', 'STATE', 'MISSING', 'STARTED'], ...body])}\n`);
    }
    return 0;
  },
};
