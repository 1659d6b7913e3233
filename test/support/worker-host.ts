/**
 * A worker host for cluster tests and benchmarks: `lanes worker` run as a deployment runs it, in a process of its
 * own with its own LANES_HOME (what separate machines would have) and its own worker key (LANES_WORKER_KEY, listed
 * under the trust root's workers), that can be killed with SIGKILL and started again on the same home, as a
 * restarted machine would be.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');

/** A worker host: its own LANES_HOME, the cluster's environment, `lanes worker` as a deployment runs it. */
export class WorkerHost {
  child!: ChildProcess;
  log = '';
  constructor(
    readonly home: string,
    /** The cluster's environment, read at each start (a replacement process gets what the host has now). */
    private readonly env: () => Record<string, string>,
    /** This host's worker key (`lanes keys new --role worker`): what attests the packets it publishes. */
    readonly workerKeyPath: string,
  ) {
    mkdirSync(home, { recursive: true });
  }

  async start(): Promise<void> {
    this.log = ''; // a restart waits for its own "polling" line
    this.child = spawn(process.execPath, [LANES, 'worker'], { cwd: this.home, env: { ...process.env, ...this.env(), LANES_HOME: this.home, LANES_WORKER_KEY: this.workerKeyPath }, stdio: ['ignore', 'pipe', 'pipe'] });
    const polling = new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        this.log = (this.log + d.toString()).slice(-20_000);
        if (/polling/.test(this.log)) resolve();
      };
      this.child.stdout!.on('data', onData);
      this.child.stderr!.on('data', onData);
      this.child.once('exit', (code, signal) => reject(new Error(`worker in ${this.home} exited (${signal ?? code}) before polling:\n${this.log}`)));
    });
    await polling;
  }

  get pid(): number {
    return this.child.pid!;
  }

  kill9(): void {
    this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    this.child.kill('SIGKILL');
  }
}

