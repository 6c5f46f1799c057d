// Software versions recorded in the report: node, revcor and the libraries that computed or drew the results.
// Tested in test/report/browser.test.ts.
import { readFileSync } from 'node:fs';
import { arch, cpus, platform, release } from 'node:os';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { PACKAGE_ROOT } from '../pipeline/package-files.ts';

const ROOT = pathToFileURL(PACKAGE_ROOT + '/');

/** A package's version from its package.json under the repository's node_modules ('' when not found). */
function packageVersion(name: string): string {
  try {
    const url = name === 'revcor' ? new URL('package.json', ROOT) : new URL(`node_modules/${name}/package.json`, ROOT);
    return String((JSON.parse(readFileSync(url, 'utf8')) as { version?: string }).version ?? '');
  } catch {
    return '';
  }
}

/** Name → version of everything that shaped the run's numbers and the report. */
export function softwareVersions(): [string, string][] {
  const v: [string, string][] = [
    ['revcor', packageVersion('revcor')],
    ['node', process.versions.node],
    ['onnxruntime-node', packageVersion('onnxruntime-node')],
    ['apache-arrow', packageVersion('apache-arrow')],
    ['sharp', sharp.versions.sharp ?? packageVersion('sharp')],
    ['libvips', sharp.versions.vips],
    ['vega', packageVersion('vega')],
    ['vega-lite', packageVersion('vega-lite')],
    ['platform', `${platform()} ${release()} ${arch()}`],
    ['cpu', `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`],
  ];
  return v.filter(([, x]) => x);
}
