/**
 * The point of action, as a worker runs it (DESIGN.md §The gate, layer 2): reads this worker's trust root file now,
 * takes the caller from the activity's own info, resolves and re-hashes the evidence the grants name, and asks the
 * pure verifier (src/domain/point-of-action.ts) whether the work may run. Both interceptors — the lane worker's and
 * the production worker's — call this one module, so there is exactly one place that says yes. Any refusal is a
 * non-retryable `GrantRefused`; the activity body never starts.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, type Context } from '@temporalio/activity';
import { armWindowOf, changeSpecSchema, type ChangeSpec } from '../domain/change-spec';
import { formatDuration } from '../domain/duration';
import { specHashOf } from '../domain/bindings';
import { claimedIssueTime, verifyEnvelope, type VerifiedEnvelope } from '../domain/envelope-rules';
import { changeWorkflowId } from '../workflows/messages';
import { judgeCharter } from '../domain/charter';
import {
  blockerStateProblem,
  grantsFor,
  precheckEvidenceProblem,
  rehearsalEvidenceProblem,
  verifyLaneAuthorization,
  type ActivityCaller,
  type LaneAuthorization,
  type LaneAuthorizationInput,
  type LaneOfTree,
  withdrawalProblem,
} from '../domain/point-of-action';
import type { RunSignals, WorkflowSignals } from './run-signals';
import { limitsOf, type TrustRoot } from '../domain/trust-root';
import type { GrantAction, LaneKind } from '../domain/vocabulary';
import type { AuthorizedWork } from '../activities/lane-request';
import { placeOf, type WorkerPlace } from '../activities/worker-place';
import type { WorkerHome } from './config';
import { openProduction } from '../activities/targets/open';
import { assertSqlContained } from '../sql/assert-contained';
import type { LanePolicy } from './lane-activity-policy';
import { readTrustRootFile } from './trust-root-file';
import { verifyEd25519Node } from './node-signature';
import { precheckResumeProblem, resumeIndex } from '../domain/resume';

export class Refused extends Error {}

/**
 * Runs a pure judgement that looks trees up synchronously (the blocker replay) with trees resolved asynchronously
 * (the evidence stores): a first pass records which trees it asks for, they are resolved (and re-hashed), and the
 * judgement runs again on the answers. Which trees the replay asks for depends only on signed moves and the signed
 * presented map, never on the answers, so the second pass asks nothing new; should it, that is refused, not guessed.
 */
async function withTreesResolved<T>(resolve: (tree: string) => Promise<LaneOfTree | undefined>, judge: (laneOf: (tree: string) => LaneOfTree | undefined) => T): Promise<T> {
  const answers = new Map<string, LaneOfTree | undefined>();
  const asked = new Set<string>();
  judge((tree) => void asked.add(tree));
  for (const tree of asked) answers.set(tree, await resolve(tree));
  return judge((tree) => {
    if (!answers.has(tree)) throw new Refused(`the blocker replay asked for evidence tree ${tree} only on its second pass`);
    return answers.get(tree);
  });
}

/**
 * Until when an armed step may apply: every grant of its action must arm it (armWindowMs, at most the step's declared
 * window), and the earliest issuedAt + armWindowMs counts. Undefined for a plain step.
 */
function armedUntilOf(step: ChangeSpec['steps'][number], grants: readonly VerifiedEnvelope[]): number | undefined {
  const window = armWindowOf(step);
  if (window === undefined) return undefined;
  let until = Infinity;
  for (const g of grants) {
    const arm = g.payload.armWindowMs;
    if (arm === undefined) throw new Refused(`step ${step.id} is armed (window ${step.window}): its ${step.action} grant ${g.id.slice(0, 16)}… does not arm it (\`lanes grant … ${step.action} --window <at most ${step.window}>\`)`);
    if (arm > window) throw new Refused(`step ${step.id} may be armed for at most ${step.window}; its ${step.action} grant ${g.id.slice(0, 16)}… arms it for ${formatDuration(arm)}`);
    until = Math.min(until, Date.parse(g.payload.issuedAt) + arm);
  }
  // A lapsed window is the body's to refuse (ArmWindowLapsed, before it touches anything), so the lane ends in HOLD
  // rather than failing; the recheck inside the step's transaction refuses it too.
  return until;
}

/** The distinct trees some grants name, each with the action of the first grant naming it (for the message). */
function namedTrees(grants: readonly VerifiedEnvelope[], tree: (g: VerifiedEnvelope) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const g of grants) if (!out.has(tree(g))) out.set(tree(g), g.payload.action);
  return out;
}

/** A production step the point of action let through: the step of the verified spec, and its verified grants. */
export interface AuthorizedStep extends LaneAuthorization {
  caller: ActivityCaller;
  step: ChangeSpec['steps'][number];
  /** A resumed execution: the step its signed START resumes from (the steps before it are earlier runs'). */
  resumeFrom?: string;
  /** An armed step: until when its grants arm it (ms since the epoch); it applies only before then. */
  armedUntil?: number;
  /**
   * Checks again what time can change — an owner's HOLD or REVOKE, grant expiry, precheck validity — for the body
   * to call inside the step's transaction, once it holds the change's lock and right before the SQL runs.
   */
  recheck(): Promise<void>;
}

export class PointOfAction {
  /** This worker's disk and, in a cluster, the shared evidence store: where named trees are resolved (and re-hashed). */
  private readonly place: WorkerPlace;

  constructor(
    private readonly trustRootPath: string | undefined,
    home: WorkerHome,
    /** The run's signals as the server recorded them: owners' HOLD and REVOKE count here, whatever the workflow says. */
    private readonly signalsOf: RunSignals,
    /** Every signal the change entity's runs received: the blocker moves the replay counts. */
    private readonly workflowSignalsOf: WorkflowSignals,
  ) {
    this.place = placeOf(home);
  }

  /** Runs `check` for the activity in `ctx`, turning any refusal into a non-retryable GrantRefused. */
  async guard<T>(ctx: Context, check: (caller: ActivityCaller, trustRoot: TrustRoot) => Promise<T> | T): Promise<T> {
    const { activityType, workflowExecution, workflowType } = ctx.info;
    const who = workflowExecution?.workflowId ?? '(no workflow)';
    try {
      if (!workflowExecution || !workflowType) throw new Refused('this work runs only on behalf of a lane workflow');
      if (!this.trustRootPath) throw new Refused('this worker has no trust root (LANES_TRUST_ROOT)');
      // Read now, every time: a rotated file takes effect at once, and envelopes signed under the old one stop counting.
      const trustRoot = await readTrustRootFile(this.trustRootPath).catch((err: Error) => {
        throw new Refused(err.message);
      });
      return await check({ workflowId: workflowExecution.workflowId, runId: workflowExecution.runId, workflowType }, trustRoot);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      throw ApplicationFailure.nonRetryable(`point of action refused ${activityType} for ${who}: ${err.message}`, 'GrantRefused');
    }
  }

  /** A lane activity: the START and that lane's grants, bound to this workflow, run and spec; its inputs re-checked. */
  async laneWork(caller: ActivityCaller, trustRoot: TrustRoot, policy: Extract<LanePolicy, { kind: 'lane' }>, raw: unknown): Promise<AuthorizedWork> {
    const req = (raw ?? {}) as Record<string, unknown>;
    const auth = this.verify(caller, trustRoot, {
      lane: policy.lane,
      change: req.change,
      start: req.start,
      // Work that needs no grant (a decision packet) may come without a list; any list given is verified whole.
      grants: req.grants === undefined ? [] : req.grants,
      required: policy.required,
      ...(policy.grantsAsOfIssue ? { grantsAsOfIssue: true } : {}),
    });
    if (auth.grants.length > 0 && !policy.grantsAsOfIssue) await this.notWithdrawn(caller, trustRoot, auth);
    const inputs = this.operatorInputs(caller, trustRoot, auth, req.inputs);
    return {
      workflowId: caller.workflowId,
      runId: caller.runId,
      change: auth.change,
      specHash: auth.specHash,
      trustRootFingerprint: trustRoot.fingerprint,
      grants: auth.grants,
      // Options come from the operator's signed START, never from the request.
      ...(auth.start.payload.shaped === true ? { shaped: true } : {}),
      // A precheck stands for what its START asked, never longer than the trust root allows.
      ...(auth.lane === 'precheck' ? { precheckValidForMs: Math.min(auth.start.payload.precheckValidForMs ?? Infinity, limitsOf(trustRoot).precheckValidityMs) } : {}),
      ...(auth.start.payload.resumeFrom !== undefined ? { resumeFrom: auth.start.payload.resumeFrom } : {}),
      ...(inputs.length > 0 ? { inputs } : {}),
    };
  }

  /**
   * A production step: the lane check for an execution (OPT4_PRODUCTION, REAL_RUN and the step's own action), then
   * the evidence the grants name, resolved and re-hashed here — a passed rehearsal of this spec, a fresh passed
   * precheck of this spec on this very production — and the blocker state OPT4_PRODUCTION approves.
   */
  async productionStep(caller: ActivityCaller, trustRoot: TrustRoot, raw: unknown): Promise<AuthorizedStep> {
    const req = (raw ?? {}) as Record<string, unknown>;
    const stepActions = (change: ChangeSpec): GrantAction[] => {
      const step = change.steps.find((s) => s.id === req.stepId);
      return step ? ['OPT4_PRODUCTION', 'REAL_RUN', step.action] : ['OPT4_PRODUCTION', 'REAL_RUN'];
    };
    const auth = this.verify(caller, trustRoot, { lane: 'execution', change: req.change, start: req.start, grants: req.grants, required: stepActions });
    const step = auth.change.steps.find((s) => s.id === req.stepId);
    if (!step) throw new Refused(`the signed change spec has no step ${JSON.stringify(req.stepId)}`);
    // A resumed execution (its START signs the step it resumes from) applies nothing before that step.
    const resumeFrom = auth.start.payload.resumeFrom;
    const from = resumeIndex(auth.change, resumeFrom);
    if (from < 0) throw new Refused(`the lane start resumes from step ${String(resumeFrom)}, which the signed change spec does not declare`);
    if (auth.change.steps.indexOf(step) < from) throw new Refused(`step ${step.id} comes before ${String(resumeFrom)}, where this resumed execution starts: an earlier run applied it`);
    const armedUntil = armedUntilOf(step, grantsFor(auth.grants, step.action));
    // Signed is not enough: the SQL must also stay inside the surface it declares, read by PostgreSQL's own parser.
    await assertSqlContained(auth.change);
    // Each named tree is resolved and re-hashed once, however many grants name it (REAL_RUN and APPLY usually agree).
    for (const [tree, action] of namedTrees([...grantsFor(auth.grants, 'REAL_RUN'), ...grantsFor(auth.grants, 'APPLY')], (g) => g.payload.evidenceTree!)) {
      const files = await this.packet(tree, ['rehearsal.json', 'change.json'], `${action}'s rehearsal`, trustRoot, auth.change.id);
      const problem = rehearsalEvidenceProblem({ rehearsal: files['rehearsal.json'], change: files['change.json'] }, auth.specHash);
      if (problem) throw new Refused(`${action} names evidence tree ${tree}, but ${problem}`);
    }
    const production = await openProduction(this.place, auth.change);
    const identity = await production.identity();
    let precheckUntil = Infinity;
    for (const [tree] of namedTrees(grantsFor(auth.grants, 'REAL_RUN'), (g) => g.payload.precheckTree!)) {
      const files = await this.packet(tree, ['precheck.json', 'change.json'], "REAL_RUN's precheck", trustRoot, auth.change.id);
      const problem = precheckEvidenceProblem({ precheck: files['precheck.json'], change: files['change.json'] }, auth.specHash, identity, Date.now(), limitsOf(trustRoot).precheckValidityMs);
      if (problem) throw new Refused(`REAL_RUN names precheck tree ${tree}, but ${problem}`);
      const resume = precheckResumeProblem(files['precheck.json'], resumeFrom);
      if (resume) throw new Refused(`REAL_RUN names precheck tree ${tree}, but ${resume}`);
      precheckUntil = Math.min(precheckUntil, Date.parse(String((files['precheck.json'] as { validUntil?: unknown }).validUntil)));
    }
    // An owner's HOLD or REVOKE is read from the run's history once per step, by recheck() inside the step's
    // transaction right before its SQL: later than here, so nothing a check here would catch escapes it, and a
    // history read (the costliest part of this check) is not paid twice. Before it, a held run's step only reads
    // production and creates the product's own bookkeeping tables if missing; its ledger claim rolls back with the
    // refusal, and the change's SQL never runs.
    // The blocker map and rules the spec declares — or its declaring none — bind only as the owners chartered them
    // (charter.ts): a spec that drops its map is a change of map like any other.
    const charter = judgeCharter(Array.isArray(req.charter) ? req.charter : [], { changeId: auth.change.id, blockers: auth.change.blockers }, { trustRoot, entityWorkflowId: changeWorkflowId(auth.change.id) }, verifyEd25519Node);
    if (!charter.ok) throw new Refused(charter.reason);
    const charteredAtMs = Date.parse(charter.at);
    // Blocker moves as the server recorded them for the change entity (every run), not as the request presents them.
    // A spec declaring no map has nothing to replay: its steps skip the history read.
    const recorded = auth.change.blockers ? await this.workflowSignalsOf(changeWorkflowId(auth.change.id)) : [];
    const blockers = await withTreesResolved(
      (tree) => this.laneOfTree(tree, trustRoot),
      (laneOf) =>
        blockerStateProblem(req.blockerState ?? null, auth.change, auth.grants, stepActions(auth.change), {
          moves: recorded.filter((r) => r.name === 'blockerUpdate' && r.at !== undefined).map((r) => ({ envelope: r.payload, at: r.at! })),
          verifyUpdate: (envelope, nowMs) => this.blockerUpdate(trustRoot, auth.change, auth.specHash, envelope, nowMs),
          laneOf,
          charteredAtMs,
        }),
    );
    if (blockers) throw new Refused(blockers);
    return {
      ...auth,
      caller,
      step,
      ...(resumeFrom !== undefined ? { resumeFrom } : {}),
      ...(armedUntil !== undefined ? { armedUntil } : {}),
      recheck: this.recheckFor('applyProductionStep', caller, trustRoot, auth, precheckUntil, armedUntil),
    };
  }

  /**
   * A rollback step (the rollback lane): the START and grants of a rollback lane of this run and spec —
   * OPT4_PRODUCTION and PROD_ROLLBACK — where every PROD_ROLLBACK names a PASSED rehearsal of this very spec (the
   * one that proved its rollback SQL), and the spec's SQL, rollback SQL included, stays inside its surface. Which
   * steps production holds, in which order they are undone, and under which applied spec, the ledger decides in the
   * step's transaction (rollback-ledger.ts).
   */
  async rollbackStep(caller: ActivityCaller, trustRoot: TrustRoot, raw: unknown): Promise<AuthorizedStep> {
    const req = (raw ?? {}) as Record<string, unknown>;
    const auth = this.verify(caller, trustRoot, { lane: 'rollback', change: req.change, start: req.start, grants: req.grants, required: () => ['OPT4_PRODUCTION', 'PROD_ROLLBACK'] });
    const step = auth.change.steps.find((s) => s.id === req.stepId);
    if (!step) throw new Refused(`the signed change spec has no step ${JSON.stringify(req.stepId)}`);
    await assertSqlContained(auth.change);
    for (const [tree] of namedTrees(grantsFor(auth.grants, 'PROD_ROLLBACK'), (g) => g.payload.evidenceTree!)) {
      const files = await this.packet(tree, ['rehearsal.json', 'change.json'], "PROD_ROLLBACK's rehearsal", trustRoot, auth.change.id);
      const problem = rehearsalEvidenceProblem({ rehearsal: files['rehearsal.json'], change: files['change.json'] }, auth.specHash);
      if (problem) throw new Refused(`PROD_ROLLBACK names evidence tree ${tree}, but ${problem}`);
    }
    await this.notWithdrawn(caller, trustRoot, auth);
    return { ...auth, caller, step, recheck: this.recheckFor('rollbackProductionStep', caller, trustRoot, auth, Infinity) };
  }

  /**
   * What the body calls inside the step's transaction, holding the change's lock, right before the SQL: an owner's
   * HOLD or REVOKE sent meanwhile, a grant's expiry, or the end of the precheck's validity stops the step there.
   */
  private recheckFor(activity: string, caller: ActivityCaller, trustRoot: TrustRoot, auth: LaneAuthorization, precheckUntil: number, armedUntil?: number): () => Promise<void> {
    return async () => {
      try {
        await this.notWithdrawn(caller, trustRoot, auth);
        const now = Date.now();
        const expired = auth.grants.find((g) => Date.parse(g.payload.expiresAt) <= now);
        if (expired) throw new Refused(`${expired.payload.action} grant expired at ${expired.payload.expiresAt} while the step waited`);
        if (precheckUntil <= now) throw new Refused(`the precheck REAL_RUN names stopped being valid at ${new Date(precheckUntil).toISOString()} while the step waited`);
        if (armedUntil !== undefined && armedUntil <= now) throw new Refused(`the step was armed until ${new Date(armedUntil).toISOString()}; its window lapsed while it waited`);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        throw ApplicationFailure.nonRetryable(`point of action refused ${activity} for ${caller.workflowId}: ${err.message}`, 'GrantRefused');
      }
    };
  }

  /** Refuses when the server's record of this run holds an owner's HOLD, or a REVOKE of a grant presented. */
  private async notWithdrawn(caller: ActivityCaller, trustRoot: TrustRoot, auth: LaneAuthorization): Promise<void> {
    const signals = await this.signalsOf(caller.workflowId, caller.runId);
    const problem = withdrawalProblem(signals, { ...auth, caller }, trustRoot, verifyEd25519Node);
    if (problem) throw new Refused(problem);
  }

  private verify(caller: ActivityCaller, trustRoot: TrustRoot, req: { lane: LaneKind | 'any'; change: unknown; start: unknown; grants: unknown; required: LaneAuthorizationInput['required']; grantsAsOfIssue?: boolean }): LaneAuthorization {
    const verdict = verifyLaneAuthorization({ caller, trustRoot, nowMs: Date.now(), ...req }, verifyEd25519Node);
    if (!verdict.ok) throw new Refused(verdict.reason);
    return verdict;
  }

  /** A signed blocker move of this change and spec, verified as of the moment the server recorded it, under the pinned trust root. */
  private blockerUpdate(trustRoot: TrustRoot, change: ChangeSpec, specHash: string, envelope: unknown, nowMs: number): VerifiedEnvelope | undefined {
    const v = verifyEnvelope(
      envelope,
      { trustRoot, workflowId: changeWorkflowId(change.id), changeId: change.id, lane: undefined, specHash, acceptedActions: ['BLOCKER_UPDATE'], nowMs, usedNonces: new Set() },
      verifyEd25519Node,
    );
    return v.ok ? v.envelope : undefined;
  }

  /**
   * Which change, spec and lane kind produced the packet with this tree, and whether it passed; from re-hashed files
   * of a packet this worker wrote or a worker of the trust root attested, bound to the change its change.json names.
   */
  private async laneOfTree(tree: string, trustRoot: TrustRoot): Promise<LaneOfTree | undefined> {
    const found = await this.place.evidence.resolve(tree, { trustRoot });
    if ('problem' in found) return undefined;
    const json = (name: string): Record<string, unknown> | undefined => {
      try {
        return JSON.parse(found.read(name)) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    // Which lane made it: from the verified file list, never from what the directory holds now.
    const lane = (['scoping', 'rehearsal', 'dry-run', 'precheck', 'execution', 'rollback'] as const).find((l) => found.files.includes(`${l}.json`));
    const spec = changeSpecSchema.safeParse(json('change.json'));
    if (!lane || !spec.success) return undefined;
    // A packet counts for the change a worker bound it to (its run's directory here, or its attestation), never
    // for whichever change its own change.json claims.
    if (!found.bound.some((b) => b.changeId === spec.data.id)) return undefined;
    const own = json(`${lane}.json`);
    const passed =
      lane === 'rehearsal' ? (own?.proof as { status?: unknown } | undefined)?.status === 'PASSED'
      : lane === 'precheck' ? own?.status === 'PASSED'
      : lane === 'dry-run' ? own?.entryEqualsExit === true
      : true; // scoping, execution and rollback write their packet only when they complete
    const shaped = lane === 'rehearsal' && json('clone-provenance.json')?.kind === 'production-shaped';
    // Operator inputs as the packet holds them, hashed from the verified bytes (the file name is only a label).
    const inputs = found.files.filter((f) => f.startsWith('inputs/')).map((f) => createHash('sha256').update(found.read(f), 'utf8').digest('hex'));
    // The lane ran after every grant it records was signed: the latest issue time is a signed lower bound on when.
    const issued = ((json('grants.json') as unknown as { payload?: { issuedAt?: unknown } }[] | undefined) ?? []).map((g) => Date.parse(String(g?.payload?.issuedAt))).filter((t) => !Number.isNaN(t));
    const notBefore = issued.length > 0 ? new Date(Math.max(...issued)).toISOString() : undefined;
    return { changeId: spec.data.id, specHash: specHashOf(spec.data), lane, shaped, passed, inputs, ...(notBefore ? { notBefore } : {}) };
  }

  /**
   * Reads JSON files of a packet found by tree hash, after re-hashing the whole packet, and only when it is bound to
   * `changeId`: this worker wrote it for that change, or a worker of the trust root attested it as that change's.
   */
  private async packet(tree: string, names: string[], what: string, trustRoot: TrustRoot, changeId: string): Promise<Record<string, unknown>> {
    const found = await this.place.evidence.resolve(tree, { trustRoot });
    if ('problem' in found) throw new Refused(`${what}: ${found.problem}`);
    if (!found.bound.some((b) => b.changeId === changeId)) {
      throw new Refused(`${what}: evidence tree ${tree} is bound to ${found.bound.map((b) => `change ${b.changeId} (workflow ${b.workflowId})`).join(', ') || 'no lane run'}, not to change ${changeId}`);
    }
    const out: Record<string, unknown> = {};
    for (const name of names) {
      try {
        out[name] = JSON.parse(found.read(name));
      } catch {
        throw new Refused(`${what}: evidence tree ${tree} has no readable, verified ${name}`);
      }
    }
    return out;
  }


  /** Operator inputs written into evidence: each signed by an operator for this run and spec, its content matching. */
  private operatorInputs(caller: ActivityCaller, trustRoot: TrustRoot, auth: LaneAuthorization, raw: unknown): NonNullable<AuthorizedWork['inputs']> {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) throw new Refused('inputs must be a list');
    return raw.map((item: { content?: unknown; envelope?: unknown }, i) => {
      const v = verifyEnvelope(
        item?.envelope,
        { trustRoot, workflowId: caller.workflowId, runId: caller.runId, startId: auth.start.id, changeId: auth.change.id, lane: auth.lane, specHash: auth.specHash, acceptedActions: ['OPERATOR_INPUT'], nowMs: claimedIssueTime(item?.envelope), usedNonces: new Set() },
        verifyEd25519Node,
      );
      if (!v.ok) throw new Refused(`operator input ${i + 1}: ${v.reason}`);
      if (typeof item.content !== 'string' || createHash('sha256').update(item.content, 'utf8').digest('hex') !== v.envelope.payload.inputSha256) {
        throw new Refused(`operator input ${i + 1}: its content does not match the sha256 the operator signed`);
      }
      const { inputKind, inputSha256 } = v.envelope.payload;
      return { kind: inputKind!, sha256: inputSha256!, content: item.content, by: `${v.envelope.signer.name} (${v.envelope.signer.keyId})` };
    });
  }
}
