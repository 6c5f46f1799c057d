// Types of bin/build-state.js (plain JavaScript: bin/revcor.js runs it before anything is compiled).
// Tested in test/bin/build-state.test.ts.

/** Top-level folders that never hold sources of the bundle. */
export const NOT_SOURCE_DIRS: readonly string[];

/** Top-level folders of the package at `root` whose TypeScript files a build may compile. */
export function sourceDirs(root: string): string[];
/** Other files whose change makes a build out of date. */
export const BUILD_FILES: readonly string[];
/** Where a build records its sources, relative to the package root. */
export const STAMP: string;
/** The compiled entry of the command line, relative to the package root. */
export const COMPILED_MAIN: string;
/** The sources a build depends on: path relative to root → modification time (ms). */
export function sourceTimes(root: string): Record<string, number>;
/** Whether the compiled command line of the package at `root` is current, and if not, why. */
export function buildState(root: string): { fresh: true } | { fresh: false; reason: string };
