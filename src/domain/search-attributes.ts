/**
 * Search attributes (DESIGN.md §Server). Shared by the workflow (upserts), the dev stack (registration) and the
 * CLI (`lanes list`), so a name is spelt in one place only.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SA_CHANGE_ID = defineSearchAttributeKey('ChangeId', SearchAttributeType.KEYWORD);
export const SA_LANE_KIND = defineSearchAttributeKey('LaneKind', SearchAttributeType.KEYWORD);
export const SA_LANE_STATE = defineSearchAttributeKey('LaneState', SearchAttributeType.KEYWORD);
export const SA_GRANTS_MISSING = defineSearchAttributeKey('GrantsMissing', SearchAttributeType.KEYWORD_LIST);
export const SA_BLOCKERS_OPEN = defineSearchAttributeKey('BlockersOpen', SearchAttributeType.INT);

export const LANE_SEARCH_ATTRIBUTES = [SA_CHANGE_ID, SA_LANE_KIND, SA_LANE_STATE, SA_GRANTS_MISSING, SA_BLOCKERS_OPEN];
