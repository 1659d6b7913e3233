export type TemporalCli = { kind: 'existing-path'; path: string; source: string } | { kind: 'sdk-download' };
export function provisionTemporalCli(opts?: { log?: (msg: string) => void }): Promise<TemporalCli>;
export function cachedBinaryPath(): string;
export function cacheRoot(): string;
export class ProvisionError extends Error {}
export const CLI_VERSION: string;
export const SERVER_VERSION: string;
export interface TemporalServerBinaries {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 (holding temporal/ and visibility/, each with versioned/). */
  schemaDir: string;
  version: string;
}
export function provisionTemporalServer(opts?: { log?: (msg: string) => void }): Promise<TemporalServerBinaries>;
export const UI_VERSION: string;
export function provisionTemporalUi(opts?: { log?: (msg: string) => void }): Promise<{ path: string; version: string }>;
