export type TemporalCli = { kind: 'existing-path'; path: string; source: string } | { kind: 'sdk-download' };
export function provisionTemporalCli(opts?: { log?: (msg: string) => void }): Promise<TemporalCli>;
export function cachedBinaryPath(): string;
export function cacheRoot(): string;
export class ProvisionError extends Error {}
export const CLI_VERSION: string;
