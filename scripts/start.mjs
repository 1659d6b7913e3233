// `npm start`: dependencies, the compiled build, then `lanes dev` (Temporal CLI provisioning happens there, with
// progress).
import { runLanes } from './run-lanes.mjs';

await runLanes('dev');
