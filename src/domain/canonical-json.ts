/**
 * RFC 8785 (JSON Canonicalization Scheme) serialisation.
 *
 * Signatures are made over these bytes, so the signer (CLI), the workflow verifier and the production worker's
 * interceptor must produce byte-identical output for the same value. Pure and sandbox-safe on purpose: it runs
 * inside workflow code.
 *
 * - Object members are sorted by their names' UTF-16 code units (JS string comparison does exactly that).
 * - Numbers use ECMAScript Number-to-String, which is what JSON.stringify emits for finite numbers.
 * - Strings use JSON.stringify's escaping, which matches RFC 8785 §3.2.2.2 for well-formed strings.
 * - Anything JSON cannot represent faithfully (NaN, Infinity, undefined, functions, lone surrogates) is refused
 *   rather than silently dropped: a silently different payload would make a signature mean something else.
 */
export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function canonicalize(value: unknown): string {
  return serialize(value, '$');
}

function serialize(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path}: ${value} has no JSON representation`);
      return JSON.stringify(value);
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new CanonicalJsonError(`${path}: string contains a lone surrogate`);
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item, i) => serialize(item, `${path}[${i}]`)).join(',')}]`;
      return serializeObject(value as Record<string, unknown>, path);
    default:
      throw new CanonicalJsonError(`${path}: a ${typeof value} has no JSON representation`);
  }
}

function serializeObject(obj: Record<string, unknown>, path: string): string {
  const proto = Object.getPrototypeOf(obj);
  if (proto !== Object.prototype && proto !== null) {
    throw new CanonicalJsonError(`${path}: only plain objects can be canonicalized`);
  }
  const members: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const member = obj[key];
    if (member === undefined) continue; // JSON has no undefined; an absent member is the faithful reading
    if (LONE_SURROGATE.test(key)) throw new CanonicalJsonError(`${path}: member name contains a lone surrogate`);
    members.push(`${JSON.stringify(key)}:${serialize(member, `${path}.${key}`)}`);
  }
  return `{${members.join(',')}}`;
}

/** UTF-8 bytes of the canonical form: what gets signed and hashed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}
