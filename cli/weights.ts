// `revcor weights fetch vgg16|vgg19 [--url U] [--sha256 H] [--dest D]`: download the official Keras weight file.
import type { Argv, CommandModule } from 'yargs';
import { fetchWeights, OFFICIAL_WEIGHTS } from '../model/fetch-weights.ts';
import { println, type CliDeps } from './deps.ts';

interface WeightsArgs {
  action: string;
  arch: 'vgg16' | 'vgg19';
  url?: string;
  sha256?: string;
  dest?: string;
  force: boolean;
}

/** The `weights` command (one action: fetch). */
export function weightsCommand(deps: Pick<CliDeps, 'stdout' | 'stderr'>): CommandModule<object, WeightsArgs> {
  return {
    command: 'weights <action> <arch>',
    describe: 'Download the official Keras ImageNet weights (vgg16 | vgg19) into ~/.keras/models, hash-checked',
    builder: (y: Argv) =>
      y
        .positional('action', { choices: ['fetch'] as const, demandOption: true, describe: 'fetch: download and verify' })
        .positional('arch', { choices: ['vgg16', 'vgg19'] as const, demandOption: true })
        .option('url', { type: 'string', describe: 'Download from this URL (a mirror) instead of the official one' })
        .option('sha256', { type: 'string', describe: 'Expected SHA-256; default: the MD5 Keras publishes for the file' })
        .option('dest', { type: 'string', describe: 'Destination file (default: $KERAS_HOME/models/<keras file name>)' })
        .option('force', { type: 'boolean', default: false, describe: 'Download even if a verified file is already there' })
        .example('$0 weights fetch vgg16', `From ${OFFICIAL_WEIGHTS.vgg16.url}`) as unknown as Argv<WeightsArgs>,
    handler: async (args) => {
      let shown = -1;
      const result = await fetchWeights({
        arch: args.arch, url: args.url, sha256: args.sha256, dest: args.dest, force: args.force,
        onProgress: (received, total) => {
          const pct = total > 0 ? Math.floor((100 * received) / total) : -1;
          if (pct >= 0 && pct >= shown + 10) {
            shown = pct;
            deps.stderr.write(`\r  ${(received / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB (${pct}%)`);
          }
        },
      });
      if (shown >= 0) deps.stderr.write('\n');
      println(
        deps.stdout,
        result.alreadyPresent ? `${result.dest} is already present and verified.` : `Downloaded ${args.arch} weights to ${result.dest} (${(result.bytes / 1e6).toFixed(1)} MB).`,
        `  sha256 ${result.sha256}`,
        `  md5    ${result.md5}`,
        `model.weights: auto now uses this file for model.arch: ${args.arch}${args.dest ? ' only if it is in the Keras cache folder' : ''}.`,
      );
    },
  };
}
