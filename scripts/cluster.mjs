// `npm run cluster`: dependencies, the compiled build, then `lanes cluster` (a real Temporal cluster on PostgreSQL;
// the server and its Web UI are built with Go into ~/.cache/gated-lanes the first time).
import { runLanes } from './run-lanes.mjs';

await runLanes('cluster');
