/**
 * Code every lane workflow uses, loaded ONCE per worker and shared by all cached workflows (the bundle's
 * `preloadModules`, scripts/build.mjs), instead of once per workflow.
 *
 * With the SDK's reusable V8 context, each workflow evaluates the bundle's modules afresh into a module cache of
 * its own, so every cached workflow held its own copy of zod (hundreds of classes and closures) and of the noble
 * curves (with its precomputed ed25519 points: ~4,200 Point objects and their bigints per workflow): 1.9 of the
 * 5.2 MiB of heap a parked lane and its change entity cost (bench/NOTES.md, bench/heap-parked.ts). Modules
 * evaluated during preload land in the SDK's shared module cache, and their exports are deep-frozen.
 *
 * Only stateless libraries belong here, or workflows would share state: zod keeps none between parses (its
 * locale is set once, at load) and noble's caches are pure functions of constants. Our own modules are NOT
 * preloaded: the deep freeze reaches the RegExps inside our zod schemas, and zod resets a pattern's lastIndex
 * before each use, which a frozen RegExp refuses (tried: every lane's first task failed). Workflow modules hold
 * each workflow's own state and never belong here.
 *
 * Imported as ES modules, as the domain code imports them, so the shared copies are the very modules the
 * workflows resolve to (a `require` would resolve zod's CommonJS build, a second copy). The export keeps the
 * imports from being dropped as unused.
 */
import { z } from 'zod';
import { ed25519 } from '@noble/curves/ed25519';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';

export const SHARED_LIBRARIES = [z, ed25519, sha256, bytesToHex, hexToBytes, utf8ToBytes] as const;
