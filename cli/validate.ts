// `revcor validate CONFIG`: loads and checks an experiment (schema, inputs, shard plans) without running it.
// Tested in test/cli/cli.test.ts.
import type { Argv, CommandModule } from 'yargs';
import { loadExperiment } from '../config/load.ts';
import { checkRunFits, describeEstimate } from '../pipeline/budget.ts';
import { orderStages } from '../pipeline/dag.ts';
import { println, type CliDeps } from './deps.ts';

interface ValidateArgs {
  config: string;
  set: string[];
}

/** The `validate` command. */
export function validateCommand(deps: CliDeps): CommandModule<object, ValidateArgs> {
  return {
    command: 'validate <config>',
    describe: 'Check an experiment YAML (schema, input files, shard plans) without running anything',
    builder: (y: Argv) =>
      y
        .positional('config', { type: 'string', demandOption: true, describe: 'Experiment YAML' })
        .option('set', { type: 'string', array: true, default: [], describe: 'Override a config key (repeatable)' })
        .example('$0 validate config/vgg16-full.yaml', 'Report every mistake with file:line:column') as unknown as Argv<ValidateArgs>,
    handler: async (args) => {
      const loaded = await loadExperiment(args.config, args.set);
      const estimate = await checkRunFits(deps.stages(), loaded, loaded.config.run.out);
      const lines: string[] = [];
      let total = 0;
      for (const stage of orderStages(deps.stages())) {
        const shards = await stage.plan(loaded);
        await stage.inputFiles?.(loaded);
        total += shards.length;
        lines.push(`  ${stage.name.padEnd(12)} ${shards.length} shard${shards.length === 1 ? '' : 's'}`);
      }
      println(deps.stdout, `${loaded.file} is valid (out: ${loaded.config.run.out}); ${total} shards planned:`, ...lines, `Estimated needs: ${describeEstimate(estimate)}`);
    },
  };
}
