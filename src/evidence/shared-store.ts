/**
 * What a store shared by every host of a cluster must do (src/evidence/postgres-store.ts is the one there is). It
 * only keeps and returns bytes: it is never believed. Whoever reads a packet back checks it against the tree hash a
 * signature or a lane named (src/evidence/packet.ts, packetProblems) and checks that a worker of its own trust root
 * attested it (src/evidence/attestation.ts) before using a byte of it: every host and CLI user can write here.
 */
import type { SignedAttestation } from './attestation';
import type { PacketContent, PacketKey } from './packet';

/** A decision packet as a lane wrote it: display only, shown from the store only with its worker's attestation. */
export interface DecisionText {
  json: string;
  markdown: string;
}

/** A packet as the store returns it, not yet verified: the MANIFEST text and the content of each sha256 it found. */
export interface StoredPacket {
  manifest: string;
  blobs: Map<string, Buffer>;
  /** Every attestation stored for this tree, unverified. */
  attestations: SignedAttestation[];
}

/** A decision packet as stored under one run, with the attestations stored for it, unverified. */
export interface StoredDecision extends DecisionText {
  runId: string;
  attestations: SignedAttestation[];
}

export interface SharedEvidenceStore {
  /** For messages: where it is, with no password. */
  readonly label: string;
  /** Stores the packet, indexes it under `key` and adds its attestation, all or nothing; resolves once durable. */
  publishPacket(key: PacketKey, packet: PacketContent, attestation?: SignedAttestation): Promise<void>;
  /** The packet with this tree, or undefined when the store has no MANIFEST for it. Throws when unreachable. */
  fetchPacket(tree: string): Promise<StoredPacket | undefined>;
  /** The packets indexed under a workflow id, newest first: a finding aid (each is resolved, so verified, by tree). */
  treesOf(workflowId: string): Promise<(PacketKey & { tree: string })[]>;
  /** The attestations stored as naming this workflow id, unverified: a finding aid for `lanes evidence pull`. */
  attestationsOf(workflowId: string): Promise<SignedAttestation[]>;
  publishDecision(key: PacketKey, text: DecisionText, attestation?: SignedAttestation): Promise<void>;
  /** A lane's decision packets as stored, newest first; with a run id, only that run's. */
  fetchDecisions(key: Omit<PacketKey, 'runId'> & { runId?: string }): Promise<StoredDecision[]>;
}
