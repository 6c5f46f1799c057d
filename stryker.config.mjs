// Mutation testing (`npm run mutate`, not in CI: hours on 2 cores): how many deliberate small bugs (mutants) in the
// science and in the engine's safety code the test suite catches. Scores per file, the commands that produced them
// and every surviving mutant's reason: docs/testing.md. One file at a time:
//   npm run mutate -- --mutate science/awa.ts
// Reports go to artifacts/mutation/ (mutation.html, mutation.json); the incremental file there lets a later run
// retest only the mutants whose code or covering tests changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // only the test files that import the mutated file (vitest --related), and per mutant only the tests that ran it
  vitest: { configFile: 'test/vitest.mutation.config.ts', related: true },
  coverageAnalysis: 'perTest',
  // the unit tests of the mirrored folders: stage, CLI and model tests spawn processes or load networks, which makes
  // a mutant cost minutes; a file's dedicated tests must kill its mutants (widen with --testFiles for one run)
  testFiles: ['test/science/**/*.test.ts', 'test/pipeline/**/*.test.ts'],
  mutate: [
    'science/**/*.ts',
    'pipeline/{atomic,lock,cache-key,cache-store,store,manifest,shard-exec,rundir,budget,finish}.ts',
  ],
  // one test runner: the machine has 2 cores shared with other work (run it under nice -n 10)
  concurrency: 1,
  timeoutMS: 30_000,
  dryRunTimeoutMinutes: 60,
  incremental: true,
  incrementalFile: 'artifacts/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'artifacts/mutation/mutation.json' },
  htmlReporter: { fileName: 'artifacts/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // run directories (README: `--out runs/…`) and scratch files are not the project: copying them into the sandbox
  // costs minutes per run (14 GB here) and fails on a lock file a live run removes
  ignorePatterns: ['artifacts', 'bench/out', '.stryker-tmp', 'runs', 'scratch', '/tmp'],
};
