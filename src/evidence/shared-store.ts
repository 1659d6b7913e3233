/**
 * What a store shared by every host of a cluster must do (src/evidence/postgres-store.ts is the one there is). It
 * only keeps and returns bytes: it is never believed. Whoever reads a packet back checks it against the tree hash a
 * signature or a lane named (src/evidence/packet.ts, packetProblems) before using a byte of it.
 */
import type { PacketContent, PacketKey } from './packet';

/** A decision packet as a lane wrote it: display only (nothing signs it), kept so any host can show it. */
export interface DecisionText {
  json: string;
  markdown: string;
}

/** A packet as the store returns it, not yet verified: the MANIFEST text and the content of each sha256 it found. */
export interface StoredPacket {
  manifest: string;
  blobs: Map<string, Buffer>;
}

export interface SharedEvidenceStore {
  /** For messages: where it is, with no password. */
  readonly label: string;
  /** Stores the packet and indexes it under `key`, all or nothing; resolves only once it is durable. */
  publishPacket(key: PacketKey, packet: PacketContent): Promise<void>;
  /** The packet with this tree, or undefined when the store has no MANIFEST for it. Throws when unreachable. */
  fetchPacket(tree: string): Promise<StoredPacket | undefined>;
  /** The packets indexed under a workflow id, newest first: a finding aid (each is resolved, so verified, by tree). */
  treesOf(workflowId: string): Promise<(PacketKey & { tree: string })[]>;
  publishDecision(key: PacketKey, text: DecisionText): Promise<void>;
  /** A lane's decision packet; without a run id, its latest run's. */
  fetchDecision(key: Omit<PacketKey, 'runId'> & { runId?: string }): Promise<DecisionText | undefined>;
}
