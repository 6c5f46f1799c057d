// `npm run bench`: every benchmark of the project, in turn (never part of the tests). Pass names to run a subset,
// e.g. `npm run bench -- revcor`.
import { benchForward } from './forward.ts';
import { benchInteriorNull } from './interior-null.ts';
import { benchNullCheck } from './null-check.ts';
import { benchReport } from './report.ts';
import { benchRevcor } from './revcor.ts';
import { benchRevcorVgg19 } from './revcor-vgg19.ts';
import { benchStartup } from './startup.ts';
import { benchWindow } from './window.ts';
import { benchRoofline } from './roofline.ts';
import { benchAwcPrepared } from './awc-prepared.ts';

const benches: Record<string, () => Promise<unknown>> = {
  forward: () => benchForward(),
  'interior-null': async () => console.log(await benchInteriorNull()),
  'null-check': async () => console.log(await benchNullCheck(process.argv.slice(process.argv.indexOf('null-check') + 1))),
  report: () => benchReport(),
  revcor: () => benchRevcor(),
  'revcor-vgg19': () => benchRevcorVgg19(),
  startup: () => benchStartup(),
  window: () => benchWindow(),
  roofline: () => benchRoofline(process.argv),
  'awc-prepared': async () => console.log(await benchAwcPrepared(process.argv.slice(process.argv.indexOf('awc-prepared') + 1))),
};

const argv = process.argv.slice(2);
// null-check, roofline and awc-prepared take positional arguments of their own: only bench names up to the first of them select benches
const withArgs = argv.findIndex((a) => a === 'null-check' || a === 'roofline' || a === 'awc-prepared');
const wanted = (withArgs >= 0 ? argv.slice(0, withArgs + 1) : argv).filter((a, i) => !a.startsWith('-') && argv[i - 1] !== '--runs');
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n=== bench: ${name} ===`);
  await run();
}
