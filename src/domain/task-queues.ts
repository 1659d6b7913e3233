/**
 * Production activities run on their own task queue, named after the lane queue (`gated-lanes` →
 * `gated-lanes-production`), so a deployment or a test that picks a lane queue gets a matching production queue
 * without a second setting to keep in step.
 */
export function productionTaskQueue(laneTaskQueue: string): string {
  return `${laneTaskQueue}-production`;
}
