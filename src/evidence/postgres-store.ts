/**
 * The shared evidence store on PostgreSQL: the database cluster a deployment already runs for Temporal, so a cluster
 * of workers needs no extra service. Content-addressed: file contents by sha256 and MANIFESTs by tree hash are primary
 * keys, so the same bytes are kept once however many packets hold them; one transaction publishes a whole packet, so
 * no host ever sees half of one. Nothing read from here is believed: src/evidence/evidence-stores.ts re-hashes it.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../activities/targets/pg-tools';
import { parseManifest, type PacketContent, type PacketKey } from './packet';
import type { SignedAttestation } from './attestation';
import type { DecisionText, SharedEvidenceStore, StoredDecision, StoredPacket } from './shared-store';

const SCHEMA = 'gated_lanes_evidence';

/**
 * Created on first use by whichever host comes first. `CREATE … IF NOT EXISTS` alone is not safe when two hosts race
 * (both can pass the check, and one fails on the catalog's unique index), so creation runs under an advisory lock.
 * The CHECKs keep keys in the one spelling every reader uses.
 */
const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS ${SCHEMA};
CREATE TABLE IF NOT EXISTS ${SCHEMA}.blobs (
  sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  content bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.trees (
  tree text PRIMARY KEY CHECK (tree ~ '^[0-9a-f]{64}$'),
  manifest text NOT NULL
);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.runs (
  change_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  tree text NOT NULL REFERENCES ${SCHEMA}.trees,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (change_id, workflow_id, run_id)
);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON ${SCHEMA}.runs (workflow_id, written_at DESC);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.decisions (
  change_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  packet_json text NOT NULL,
  markdown text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (change_id, workflow_id, run_id)
);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.attestations (
  tree text NOT NULL REFERENCES ${SCHEMA}.trees,
  key_id text NOT NULL,
  change_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  statement text NOT NULL,
  signature text NOT NULL,
  written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tree, key_id, change_id, workflow_id, run_id)
);
CREATE INDEX IF NOT EXISTS attestations_by_workflow ON ${SCHEMA}.attestations (workflow_id);
CREATE TABLE IF NOT EXISTS ${SCHEMA}.decision_attestations (
  change_id text NOT NULL,
  workflow_id text NOT NULL,
  run_id text NOT NULL,
  key_id text NOT NULL,
  statement text NOT NULL,
  signature text NOT NULL,
  PRIMARY KEY (change_id, workflow_id, run_id, key_id)
);`;

export class PostgresEvidenceStore implements SharedEvidenceStore {
  readonly label: string;
  private pool: pg.Pool | undefined;
  private schema: Promise<void> | undefined;

  constructor(private readonly url: string) {
    this.label = redactUrl(url);
  }

  /** Opened on first use, and again after close(): one worker shutting down must not break another in the process. */
  private connect(): Promise<pg.PoolClient> {
    if (!this.pool) {
      this.pool = new pg.Pool({ connectionString: this.url, max: 4 });
      this.pool.on('error', () => undefined); // an idle client's error surfaces on its next use
    }
    return this.pool.connect();
  }

  /** One transaction on one connection, the schema in place first. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (!this.schema) {
      this.schema = this.inTx(async (c) => {
        await c.query("SELECT pg_advisory_xact_lock(hashtext('gated_lanes:evidence-schema'))");
        await c.query(SCHEMA_SQL);
      });
      this.schema.catch(() => (this.schema = undefined));
    }
    await this.schema;
    return this.inTx(fn);
  }

  private async inTx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async publishPacket(key: PacketKey, packet: PacketContent, attestation?: SignedAttestation): Promise<void> {
    await this.tx(async (c) => {
      // A row already there under the same key but with other content (damaged, or tampered with) is put right: after
      // this commits, the store holds exactly the packet just written, so every host can resolve the tree reported.
      for (const [sha256, content] of new Map([...packet.files.values()].map((b) => [sha(b), b]))) {
        await c.query(
          `INSERT INTO ${SCHEMA}.blobs (sha256, content) VALUES ($1, $2)
           ON CONFLICT (sha256) DO UPDATE SET content = EXCLUDED.content WHERE blobs.content IS DISTINCT FROM EXCLUDED.content`,
          [sha256, content],
        );
      }
      await c.query(
        `INSERT INTO ${SCHEMA}.trees (tree, manifest) VALUES ($1, $2)
         ON CONFLICT (tree) DO UPDATE SET manifest = EXCLUDED.manifest WHERE trees.manifest IS DISTINCT FROM EXCLUDED.manifest`,
        [packet.tree, packet.manifest],
      );
      // A retried activity may write a different packet for the same run (times differ): the index follows the latest.
      await c.query(
        `INSERT INTO ${SCHEMA}.runs (change_id, workflow_id, run_id, tree) VALUES ($1, $2, $3, $4)
         ON CONFLICT (change_id, workflow_id, run_id) DO UPDATE SET tree = EXCLUDED.tree, written_at = clock_timestamp()`,
        [key.changeId, key.workflowId, key.runId, packet.tree],
      );
      // The worker's attestation, in the same transaction: no host ever sees the packet without it. Its key columns
      // are finding aids; readers believe only the signed statement.
      if (attestation) {
        await c.query(
          `INSERT INTO ${SCHEMA}.attestations (tree, key_id, change_id, workflow_id, run_id, statement, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (tree, key_id, change_id, workflow_id, run_id) DO UPDATE SET statement = EXCLUDED.statement, signature = EXCLUDED.signature, written_at = clock_timestamp()`,
          [packet.tree, attestation.keyId, key.changeId, key.workflowId, key.runId, attestation.statement, attestation.signature],
        );
      }
    });
  }

  async fetchPacket(tree: string): Promise<StoredPacket | undefined> {
    return this.tx(async (c) => {
      const [row] = (await c.query<{ manifest: string }>(`SELECT manifest FROM ${SCHEMA}.trees WHERE tree = $1`, [tree])).rows;
      if (!row) return undefined;
      // Only the contents the MANIFEST names are fetched: whatever else the store holds cannot enter the packet.
      const wanted = [...new Set(parseManifest(row.manifest).entries.map((e) => e.sha256))];
      const rows = (await c.query<{ sha256: string; content: Buffer }>(`SELECT sha256, content FROM ${SCHEMA}.blobs WHERE sha256 = ANY($1::text[])`, [wanted])).rows;
      const attestations = (await c.query<SignedAttestation>(`SELECT key_id AS "keyId", statement, signature FROM ${SCHEMA}.attestations WHERE tree = $1`, [tree])).rows;
      return { manifest: row.manifest, blobs: new Map(rows.map((r) => [r.sha256, r.content])), attestations };
    });
  }

  async treesOf(workflowId: string): Promise<(PacketKey & { tree: string })[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query<{ change_id: string; workflow_id: string; run_id: string; tree: string }>(
        `SELECT change_id, workflow_id, run_id, tree FROM ${SCHEMA}.runs WHERE workflow_id = $1 ORDER BY written_at DESC`,
        [workflowId],
      );
      return rows.map((r) => ({ changeId: r.change_id, workflowId: r.workflow_id, runId: r.run_id, tree: r.tree }));
    });
  }

  async attestationsOf(workflowId: string): Promise<SignedAttestation[]> {
    return this.tx(async (c) => (await c.query<SignedAttestation>(`SELECT key_id AS "keyId", statement, signature FROM ${SCHEMA}.attestations WHERE workflow_id = $1`, [workflowId])).rows);
  }

  async publishDecision(key: PacketKey, text: DecisionText, attestation?: SignedAttestation): Promise<void> {
    await this.tx(async (c) => {
      await c.query(
        `INSERT INTO ${SCHEMA}.decisions (change_id, workflow_id, run_id, packet_json, markdown) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (change_id, workflow_id, run_id) DO UPDATE SET packet_json = EXCLUDED.packet_json, markdown = EXCLUDED.markdown, written_at = clock_timestamp()`,
        [key.changeId, key.workflowId, key.runId, text.json, text.markdown],
      );
      if (attestation) {
        await c.query(
          `INSERT INTO ${SCHEMA}.decision_attestations (change_id, workflow_id, run_id, key_id, statement, signature) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (change_id, workflow_id, run_id, key_id) DO UPDATE SET statement = EXCLUDED.statement, signature = EXCLUDED.signature`,
          [key.changeId, key.workflowId, key.runId, attestation.keyId, attestation.statement, attestation.signature],
        );
      }
    });
  }

  async fetchDecisions(key: Omit<PacketKey, 'runId'> & { runId?: string }): Promise<StoredDecision[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query<{ run_id: string; packet_json: string; markdown: string; attestations: SignedAttestation[] }>(
        `SELECT d.run_id, d.packet_json, d.markdown,
                COALESCE((SELECT json_agg(json_build_object('keyId', a.key_id, 'statement', a.statement, 'signature', a.signature))
                          FROM ${SCHEMA}.decision_attestations a
                          WHERE a.change_id = d.change_id AND a.workflow_id = d.workflow_id AND a.run_id = d.run_id), '[]'::json) AS attestations
         FROM ${SCHEMA}.decisions d WHERE d.change_id = $1 AND d.workflow_id = $2 AND ($3::text IS NULL OR d.run_id = $3)
         ORDER BY d.written_at DESC LIMIT 50`,
        [key.changeId, key.workflowId, key.runId ?? null],
      );
      return rows.map((r) => ({ runId: r.run_id, json: r.packet_json, markdown: r.markdown, attestations: r.attestations }));
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
