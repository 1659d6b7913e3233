/** The workflow bundle's entry: every lane workflow the worker registers. */
export { rehearsalLane } from './rehearsal';
