/**
 * `lanes input <workflowId> <kind> <file> --key <operator key>`: an operator hands a lane an input (surface map,
 * clone provenance, snapshot/restore design, …). The envelope signs the file's sha256 and kind; the content
 * travels with it, so it lands in the lane's history and evidence packet: inputs must be secret-free.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { INPUT_KIND, MAX_INPUT_BYTES } from '../../domain/envelope';
import { configFromEnv } from '../../worker/config';
import { makeEnvelope } from '../envelopes';
import { readPrivateKey, requireRole } from '../key-files';
import { connectClient, describeLane, sendEnvelope } from '../lane-client';
import { bindingFields, laneBinding } from '../lane-binding';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const help = `lanes input <workflowId> <kind> <file> --key <operator key> [--json]

Signs the file's sha256 and kind (e.g. surface-map, clone-provenance, snapshot-restore-design) as an operator
and sends both to the lane, which records the input in its status and its evidence packet. Text only, up to
${MAX_INPUT_BYTES / 1024} KiB, and secret-free: it is kept in the lane's history.`;

export const input: Command = {
  summary: 'hand a lane a signed operator input (surface map, clone provenance, …)',
  help,
  options: { key: { type: 'string' }, ...JSON_FLAG },
  async run(flags, positionals) {
    const workflowId = positional(positionals, 0, 'workflowId', help);
    const kind = positional(positionals, 1, 'kind', help);
    const file = positional(positionals, 2, 'file', help);
    const keyPath = requiredFlag(flags, 'key', help);
    if (!INPUT_KIND.test(kind)) throw new UserError(`input kind "${kind}" must be 1-40 chars of lowercase letters, digits and "-", e.g. surface-map`, 2);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (bytes.length > MAX_INPUT_BYTES) throw new UserError(`${file} is ${bytes.length} bytes; an input may be at most ${MAX_INPUT_BYTES} (it is kept in history). Send a smaller, secret-free summary`);
    const content = bytes.toString('utf8');
    if (!Buffer.from(content, 'utf8').equals(bytes)) throw new UserError(`${file} is not UTF-8 text; inputs are text (JSON, YAML, Markdown, …)`);
    const key = readPrivateKey(keyPath);
    requireRole(key, 'operator', keyPath, 'handing a lane an input');
    const client = await connectClient(configFromEnv());
    const lane = await describeLane(client, workflowId);
    const inputSha256 = createHash('sha256').update(bytes).digest('hex');
    const binding = await laneBinding(client, lane);
    const envelope = makeEnvelope({ key, workflowId, changeId: lane.changeId, lane: lane.lane, action: 'OPERATOR_INPUT', validForMs: 60 * 60_000, inputKind: kind, inputSha256, ...bindingFields(binding) });
    const verdict = await sendEnvelope(client, lane, 'input', envelope, 15_000, content);
    if (flags.json) printJson({ ...verdict, reason: 'reason' in verdict ? verdict.reason : null, kind, sha256: inputSha256, workflowId });
    else process.stdout.write(`input ${kind} (sha256 ${inputSha256}) ${verdict.result}${'reason' in verdict ? `: ${verdict.reason}` : ''}\n`);
    return verdict.result === 'rejected' ? 1 : 0;
  },
};
