/**
 * The `lanes` command table and its help, as a user meets them (child processes of the compiled CLI; no server).
 * A command group (`lanes seal`, `lanes keys` …) answers --help with its subcommands, never "unknown command".
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { COMMANDS, groupMembers } from '../../src/cli/commands';

const LANES = join(__dirname, '..', '..', 'bin', 'lanes.js');

function lanes(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LANES, ...args], { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('lanes command table', () => {
  it("lists each command with its module's own summary (the table loads modules lazily, so it keeps a copy)", async () => {
    for (const [name, entry] of Object.entries(COMMANDS)) {
      const command = await entry.load();
      expect(command.summary, `lanes ${name}`).toBe(entry.summary);
    }
  });
});

describe('lanes <group> --help', () => {
  for (const group of ['seal', 'keys', 'trust', 'change', 'evidence']) {
    it(`lanes ${group} --help lists its subcommands (exit 0); without one, or with an unknown one, exit 2`, async () => {
      const members = groupMembers(group);
      expect(members.length).toBeGreaterThan(0);
      const help = await lanes([group, '--help']);
      expect(help.code, help.stderr).toBe(0);
      for (const m of members) expect(help.stdout).toContain(`lanes ${m}`);
      expect(help.stdout).not.toMatch(/unknown command/);

      const bare = await lanes([group]);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain(`"lanes ${group}" needs a subcommand`);
      for (const m of members) expect(bare.stderr).toContain(`lanes ${m}`);

      const unknown = await lanes([group, 'frobnicate']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain(`unknown command "${group} frobnicate"`);
    });
  }
});
