/**
 * `lanes seal create|verify`: the CI seal-vs-bytes gate. Standalone (no Temporal, no worker), so any CI can run
 * it. Paths in the manifest are relative to the manifest's own directory.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { z } from 'zod';
import { sealDrift, sealEntry, type SealManifest } from '../../domain/seal';
import { printJson } from '../output';
import { UserError } from '../user-error';
import { JSON_FLAG, positional, requiredFlag, type Command } from './types';

const createHelp = `lanes seal create --out <manifest.json> <file…>

Records sha256, byte length and encoding traits of each file in a seal manifest (paths relative to it).`;
const verifyHelp = `lanes seal verify <manifest.json> [--json]

Exit 0 when every sealed file is byte-identical; 1 on drift, naming each kind per file: sha mismatch,
byte-length mismatch, BOM, CRLF, ensure_ascii JSON re-encode, Unicode drift, missing file; 2 on bad usage.`;

const manifestSchema = z
  .object({
    v: z.literal(1),
    files: z.array(
      z
        .object({
          path: z.string().min(1),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          bytes: z.number().int().nonnegative(),
          bom: z.boolean(),
          crlf: z.boolean(),
          asciiEscapes: z.boolean(),
          foldedSha256: z.string().regex(/^[0-9a-f]{64}$/),
        })
        .strict(),
    ),
  })
  .strict();

export const sealCreate: Command = {
  summary: 'seal files: sha256 + byte length per file',
  help: createHelp,
  options: { out: { type: 'string' } },
  async run(flags, positionals) {
    const out = resolve(requiredFlag(flags, 'out', createHelp));
    if (positionals.length === 0) throw new UserError(`name at least one file to seal\n\n${createHelp}`, 2);
    const files = positionals.map((p) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(p);
      } catch (err) {
        throw new UserError(`cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; nothing was written`);
      }
      return sealEntry(relative(dirname(out), resolve(p)), bytes);
    });
    const manifest: SealManifest = { v: 1, files };
    writeFileSync(`${out}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(`${out}.partial`, out);
    process.stdout.write(`sealed ${files.length} file${files.length === 1 ? '' : 's'} in ${out}\n`);
    return 0;
  },
};

export const sealVerify: Command = {
  summary: 'verify a seal: exit 1 naming each drift',
  help: verifyHelp,
  options: { ...JSON_FLAG },
  async run(flags, positionals) {
    const path = positional(positionals, 0, 'manifest.json', verifyHelp);
    let manifest: SealManifest;
    try {
      manifest = manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) as SealManifest;
    } catch (err) {
      const why = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).slice(0, 3).join('; ') : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      throw new UserError(`${path} is not a readable seal manifest (${why}); make one with \`lanes seal create\``, 2);
    }
    const results = manifest.files.map((entry) => {
      let current: Buffer | undefined;
      try {
        current = readFileSync(resolve(dirname(path), entry.path));
      } catch {
        current = undefined;
      }
      return { path: entry.path, drift: sealDrift(entry, current) };
    });
    const drifted = results.filter((r) => r.drift.length > 0);
    if (flags.json) printJson({ clean: drifted.length === 0, files: results });
    else if (drifted.length === 0) process.stdout.write(`seal clean: ${results.length} file${results.length === 1 ? '' : 's'} byte-identical\n`);
    else process.stdout.write(`seal DRIFT in ${drifted.length} of ${results.length} files:\n${drifted.map((r) => `  ${r.path}: ${r.drift.join(', ')}`).join('\n')}\n`);
    return drifted.length === 0 ? 0 : 1;
  },
};
