/**
 * `lanes`: the whole product for operators and owners. Exit codes: 0 ok, 1 refused or failed, 2 usage error.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './user-error';
import { COMMANDS, groupMembers, groupUsage, usage } from './commands';
import { applyGlobalFlags } from '../worker/connection-options';

export async function main(argvIn: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = applyGlobalFlags(argvIn);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return 2;
  }
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const sub = rest[0] && !rest[0].startsWith('-') ? `${name} ${rest[0]}` : undefined;
  const entry = (sub && COMMANDS[sub]) || COMMANDS[name];
  const args = sub && COMMANDS[sub] ? rest.slice(1) : rest;
  try {
    if (!entry && groupMembers(name).length > 0) {
      // A command group (`lanes seal`): its help lists the subcommands; anything else is a usage error that does too.
      if (!sub && (rest.includes('--help') || rest.includes('-h'))) {
        process.stdout.write(groupUsage(name));
        return 0;
      }
      throw new UserError(`${sub ? `unknown command "${sub}"` : `"lanes ${name}" needs a subcommand`}\n\n${groupUsage(name)}`, 2);
    }
    if (!entry) throw new UserError(`unknown command "${[name, rest[0]].filter(Boolean).join(' ')}"\n\n${usage()}`, 2);
    const command = await entry.load();
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`${command.help}\n`);
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true } as ParseArgsConfig);
    } catch (err) {
      throw new UserError(`${(err as Error).message}\n\n${command.help}`, 2);
    }
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    const cause = (err as { cause?: { code?: number; details?: string; message?: string } })?.cause;
    const why = cause ? `\ncaused by: ${cause.details ?? cause.message ?? String(cause)}${cause.code !== undefined ? ` (gRPC code ${cause.code})` : ''}` : '';
    process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}${why}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
