/**
 * Where a worker or the CLI connects and what it trusts, from the environment. One place so `lanes dev`,
 * `lanes worker` and every CLI command agree on defaults.
 */
import { resolve } from 'node:path';

export interface LanesConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** LANES_TRUST_ROOT; `lanes dev` fills in a development trust root when unset. */
  trustRootPath?: string;
  /** Local state: dev server database, dev keys, evidence. */
  lanesHome: string;
  /** Base URL of the Temporal Web UI, for the links the CLI prints. */
  uiUrl: string;
  /** LANES_EVIDENCE_URL: the shared evidence store (postgres://…) every host of a cluster reads; unset on one machine. */
  evidenceUrl?: string;
  /** LANES_WORKER_KEY: a worker host's key (`lanes keys new --role worker`), which attests what it publishes; cluster mode needs it. */
  workerKeyPath?: string;
}

/** Where a worker keeps what it writes: its own disk, and the store shared across hosts when there is one. */
export interface WorkerHome {
  lanesHome: string;
  evidenceUrl?: string;
  /** In cluster mode: the worker key that attests what this worker publishes to the shared store (LANES_WORKER_KEY). */
  workerKeyPath?: string | undefined;
  /** The trust root whose `workers` this worker's key must be listed in (LANES_TRUST_ROOT). */
  trustRootPath?: string | undefined;
}

/**
 * Cluster mode: workers on several hosts, each with its own LANES_HOME. The one signal is a shared evidence store
 * (LANES_EVIDENCE_URL): without one, a packet written on one host could not be resolved on another, so a deployment
 * that has none runs on one machine. In cluster mode nothing may live only on one host's disk, PGlite targets
 * included (src/activities/targets/open.ts).
 */
export function isClusterMode(home: Pick<WorkerHome, 'evidenceUrl'>): boolean {
  return Boolean(home.evidenceUrl);
}

export const DEFAULT_TASK_QUEUE = 'gated-lanes';

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): LanesConfig {
  const lanesHome = resolve(env.LANES_HOME ?? '.lanes');
  return {
    address: env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.LANES_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    trustRootPath: env.LANES_TRUST_ROOT ? resolve(env.LANES_TRUST_ROOT) : undefined,
    lanesHome,
    uiUrl: (env.LANES_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, ''),
    ...(env.LANES_EVIDENCE_URL ? { evidenceUrl: env.LANES_EVIDENCE_URL } : {}),
    ...(env.LANES_WORKER_KEY ? { workerKeyPath: resolve(env.LANES_WORKER_KEY) } : {}),
  };
}

export function workflowUiLink(cfg: Pick<LanesConfig, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${cfg.uiUrl}/namespaces/${encodeURIComponent(cfg.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/**
 * Whether this process talks to a Temporal server someone else runs (TEMPORAL_ADDRESS is set) rather than the embedded
 * dev server `npm start` brings up. There, development defaults never apply: no development trust root is made or
 * signed under, and no development key signs; the error names what to set instead.
 */
export function usesNamedCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.TEMPORAL_ADDRESS);
}
