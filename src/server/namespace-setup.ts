/**
 * Makes a namespace ready for lanes: registers our search attributes (idempotently) and raises retention so
 * finished lanes stay visible in the UI and `lanes list`. Done through the gRPC operator/workflow services —
 * the same calls `temporal operator search-attribute create` and `namespace update` make — so it also works
 * against a cluster where no `temporal` binary is at hand.
 */
import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { LANE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const RETENTION_DAYS = 90;

const INDEXED_TYPE: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = LANE_SEARCH_ATTRIBUTES.filter((k) => !have.has(k.name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const k of missing) {
    const t = INDEXED_TYPE[k.type];
    if (t === undefined) throw new Error(`no indexed type mapping for search attribute ${k.name} (${k.type})`);
    searchAttributes[k.name] = t;
  }
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  return missing.map((k) => k.name);
}

export async function ensureRetention(connection: Connection, namespace: string, days = RETENTION_DAYS): Promise<void> {
  const seconds = days * 24 * 60 * 60;
  const ns = await connection.workflowService.describeNamespace({ namespace });
  const current = Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
  if (current >= seconds) return;
  await connection.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) },
  });
}
