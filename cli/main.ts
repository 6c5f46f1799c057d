// Entry of the `revcor` command (loaded by bin/revcor.js): runs the CLI on process.argv and sets the exit code.
import { main } from './app.ts';

process.exitCode = await main(process.argv.slice(2));
