/**
 * How the worker and the CLI reach a secured Temporal cluster: TLS (server CA, server name), mTLS (client
 * certificate and key) or an API key — from the same environment variables the Temporal CLI reads, or from the
 * `lanes` global flags that set them. One function builds the options for both the client's and the worker's
 * connection, so the two can never disagree about what they trust.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../cli/user-error';

export interface SecurityConfig {
  /** TEMPORAL_TLS=true (implied by any TLS path or an API key). */
  tls: boolean;
  caPath?: string;
  certPath?: string;
  keyPath?: string;
  serverName?: string;
  /** TEMPORAL_API_KEY: sent as a bearer token; never printed. */
  apiKey?: string;
}

export const SECURITY_ENV = {
  tls: 'TEMPORAL_TLS',
  caPath: 'TEMPORAL_TLS_CA_PATH',
  certPath: 'TEMPORAL_TLS_CERT_PATH',
  keyPath: 'TEMPORAL_TLS_KEY_PATH',
  serverName: 'TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'TEMPORAL_API_KEY',
} as const;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v);
const falsy = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v);

export function securityFromEnv(env: NodeJS.ProcessEnv = process.env): SecurityConfig {
  const pick = (k: keyof typeof SECURITY_ENV) => env[SECURITY_ENV[k]] || undefined;
  const [caPath, certPath, keyPath, serverName, apiKey] = [pick('caPath'), pick('certPath'), pick('keyPath'), pick('serverName'), pick('apiKey')];
  const implied = Boolean(caPath || certPath || keyPath || serverName || apiKey);
  const tls = falsy(env[SECURITY_ENV.tls]) ? false : truthy(env[SECURITY_ENV.tls]) || implied;
  if (!tls && (caPath || certPath || keyPath)) throw new UserError(`${SECURITY_ENV.tls} is off but TLS paths are set; unset them or turn TLS on`, 2);
  return { tls, caPath, certPath, keyPath, serverName, apiKey };
}

function readPem(path: string, what: string, env: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(`cannot read the ${what} at ${path} (${env}): ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** Options shared by `Connection.connect` (client) and `NativeConnection.connect` (worker). */
export interface SecureConnectionOptions {
  address: string;
  tls?: { serverNameOverride?: string; serverRootCACertificate?: Buffer; clientCertPair?: { crt: Buffer; key: Buffer } } | false;
  apiKey?: string;
}

export function connectionOptions(address: string, sec: SecurityConfig): SecureConnectionOptions {
  if ((sec.certPath === undefined) !== (sec.keyPath === undefined)) {
    throw new UserError(`mTLS needs both ${SECURITY_ENV.certPath} (--tls-cert) and ${SECURITY_ENV.keyPath} (--tls-key); only one is set`, 2);
  }
  if (!sec.tls) return { address, ...(sec.apiKey ? { apiKey: sec.apiKey } : {}) };
  return {
    address,
    tls: {
      ...(sec.serverName ? { serverNameOverride: sec.serverName } : {}),
      ...(sec.caPath ? { serverRootCACertificate: readPem(sec.caPath, 'server CA certificate', SECURITY_ENV.caPath) } : {}),
      ...(sec.certPath && sec.keyPath
        ? { clientCertPair: { crt: readPem(sec.certPath, 'client certificate', SECURITY_ENV.certPath), key: readPem(sec.keyPath, 'client key', SECURITY_ENV.keyPath) } }
        : {}),
    },
    ...(sec.apiKey ? { apiKey: sec.apiKey } : {}),
  };
}

/** The `lanes` global connection flags, moved into the environment the commands read. */
export const GLOBAL_FLAGS: Record<string, string> = {
  '--address': 'TEMPORAL_ADDRESS',
  '--namespace': 'TEMPORAL_NAMESPACE',
  '--tls-ca': SECURITY_ENV.caPath,
  '--tls-cert': SECURITY_ENV.certPath,
  '--tls-key': SECURITY_ENV.keyPath,
  '--tls-server-name': SECURITY_ENV.serverName,
};

/**
 * Takes the global flags out of argv (anywhere in it) and sets their variables. `--tls` alone turns TLS on. An API
 * key is deliberately not a flag: the process list would show it; use TEMPORAL_API_KEY.
 */
export function applyGlobalFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--tls' && inline === undefined) env[SECURITY_ENV.tls] = 'true';
    else if (flag === '--api-key') throw new UserError('--api-key is not accepted (it would show in the process list); set TEMPORAL_API_KEY instead', 2);
    else if (GLOBAL_FLAGS[flag]) {
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UserError(`${flag} needs a value`, 2);
      env[GLOBAL_FLAGS[flag]!] = value;
    } else rest.push(a);
  }
  return rest;
}
