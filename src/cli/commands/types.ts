import type { ParseArgsConfig } from 'node:util';
import { UserError } from '../user-error';

export type Flags = Record<string, string | boolean | undefined>;

export interface Command {
  summary: string;
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(flags: Flags, positionals: string[]): Promise<number>;
}

export const JSON_FLAG = { json: { type: 'boolean' } } as const;

/** A required positional argument, or a usage error that names it. */
export function positional(positionals: string[], index: number, name: string, help: string): string {
  const v = positionals[index];
  if (!v) throw new UserError(`missing <${name}>\n\n${help}`, 2);
  return v;
}

export function requiredFlag(flags: Flags, name: string, help: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new UserError(`missing --${name}\n\n${help}`, 2);
  return v;
}
