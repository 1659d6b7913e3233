import { join } from 'node:path';
import { readChangeSpec } from '../../src/cli/change-file';
import type { ChangeSpec } from '../../src/domain/change-spec';

export const DEMO_CHANGE = join(__dirname, '..', '..', 'examples', 'demo', 'change.json');

export function readChangeSpecForTest(): ChangeSpec {
  return readChangeSpec(DEMO_CHANGE);
}
