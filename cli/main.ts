// Entry of the `revcor` command (loaded by bin/revcor.js): runs the CLI on process.argv and sets the exit code.
// Tested in test/cli/cli.test.ts.
import { main } from './app.ts';

// A reader that stops early (`revcor status dir | head`) closes the pipe: end quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
