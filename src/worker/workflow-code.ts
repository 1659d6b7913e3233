/**
 * Which workflow code a lane worker runs. Compiled (dist/cli.js), it is the bundle scripts/build.mjs prebuilt
 * next to it (dist/workflow-bundle.js, rebuilt only when the workflow sources change), so a worker starts
 * polling without running webpack. Run from the TypeScript sources (tests, benchmarks), it is the sources,
 * bundled at start unless the caller passes a bundle.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

/** Set to `true` by esbuild when it compiles dist/ (scripts/build.mjs); not defined when run from sources. */
declare const LANES_COMPILED: boolean | undefined;

export type WorkflowCode = Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;

export function defaultWorkflowCode(): WorkflowCode {
  if (typeof LANES_COMPILED !== 'undefined' && LANES_COMPILED) {
    const codePath = join(__dirname, 'workflow-bundle.js');
    if (!existsSync(codePath)) {
      throw new Error(`the prebuilt workflow bundle ${codePath} is missing: build Gated Lanes (node scripts/build.mjs) before starting a worker`);
    }
    return { workflowBundle: { codePath } };
  }
  // A path, not require.resolve: the bundler resolves it (to src/workflows/index.ts), and esbuild need not.
  return { workflowsPath: join(__dirname, '..', 'workflows') };
}
