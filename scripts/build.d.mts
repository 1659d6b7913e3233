// Types for scripts/build.mjs, which test/support/global-setup.ts imports.
export declare const DIST: string;
export declare const STAMP: string;
export declare const WORKFLOW_BUNDLE: string;
export declare function ensureBuild(root: string, opts?: { log?: (message: string) => void }): Promise<string[]>;
