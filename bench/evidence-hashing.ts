/**
 * P4: evidence tree hashing throughput ÷ `openssl dgst -sha256` over the same files (goal >= 0.9). The subject is
 * the real verifier (`verifyEvidenceDir`: read every file, hash it, rebuild the manifest, compare); the baseline
 * is one openssl process hashing the same files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyEvidenceDir, writeEvidencePacket } from '../src/evidence/local-store';
import { measured, seconds, type BenchResult, type Log } from './measure';

export async function evidenceHashing(opts: { repeat: number; log: Log; fileMiB?: number; files?: number }): Promise<BenchResult> {
  const files = opts.files ?? 32;
  const fileMiB = opts.fileMiB ?? 8;
  const root = mkdtempSync(join(tmpdir(), 'lanes-bench-evidence-'));
  try {
    const dir = join(root, 'packet');
    const content: Record<string, Uint8Array> = {};
    for (let i = 0; i < files; i++) content[`part-${String(i).padStart(3, '0')}.bin`] = randomBytes(fileMiB * 1024 * 1024);
    const written = await writeEvidencePacket(root, dir, content);
    const paths = Object.keys(content).map((f) => join(dir, f));
    opts.log(`P4: ${files} files × ${fileMiB} MiB written; hashing ${opts.repeat}× each way`);
    const ours: number[] = [];
    const openssl: number[] = [];
    for (let r = 0; r < opts.repeat; r++) {
      // Alternate, so neither side always runs with a warmer page cache.
      ours.push(await seconds(() => {
        const v = verifyEvidenceDir(dir);
        if (v.problems.length || v.treeHash !== written.treeHash) throw new Error(`verify disagreed: ${v.problems.join(', ')}`);
      }));
      openssl.push(await seconds(() => {
        const p = spawnSync('openssl', ['dgst', '-sha256', ...paths], { stdio: ['ignore', 'ignore', 'pipe'] });
        if (p.status !== 0) throw new Error(`openssl failed: ${p.stderr}`);
      }));
    }
    const subject = measured('verifyEvidenceDir (read + sha256 + manifest)', ours);
    const baseline = measured('openssl dgst -sha256 (same files)', openssl);
    // Throughput ratio: same bytes, so ours/openssl throughput = openssl time / our time.
    const ratio = baseline.median / subject.median;
    const mib = files * fileMiB;
    return {
      id: 'P4',
      title: 'Evidence tree hashing throughput vs openssl dgst -sha256',
      goal: 'ratio >= 0.9',
      ratioIs: 'our throughput / openssl throughput (= openssl seconds / our seconds)',
      subject,
      baseline,
      ratio,
      met: ratio >= 0.9,
      notes: [`${mib} MiB in ${files} files; ours ${(mib / subject.median).toFixed(0)} MiB/s, openssl ${(mib / baseline.median).toFixed(0)} MiB/s`],
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
