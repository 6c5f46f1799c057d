// Rules that involve more than one key (the zod schema checks keys one at a time).
// Tested in test/config/load.test.ts.
import type { Experiment } from './schema.ts';

/** A cross-key problem: the key to blame (first of `paths` that a file set), and what was expected. */
export interface CrossIssue {
  /** Key paths involved, the one to blame first. */
  paths: string[];
  /** "Expected …, got …". */
  message: string;
}

/** Cross-key rules: grating k range, image resize vs input size, onnx needs a file. */
export function crossChecks(c: Experiment): CrossIssue[] {
  const out: CrossIssue[] = [];
  const g = c.stimuli.gratings;
  if (g.enabled && g.kMin > g.kMax) {
    out.push({ paths: ['stimuli.gratings.kMin', 'stimuli.gratings.kMax'], message: `Expected a number ≤ stimuli.gratings.kMax (${g.kMax}), got ${g.kMin}` });
  }
  const im = c.stimuli.images;
  if (im.enabled && im.resize < c.model.inputSize) {
    out.push({
      paths: ['stimuli.images.resize', 'model.inputSize'],
      message: `Expected an integer ≥ model.inputSize (${c.model.inputSize}): the short side is resized to it before the centre crop, got ${im.resize}`,
    });
  }
  if (c.model.arch === 'onnx' && (c.model.weights === 'auto' || c.model.weights === 'seeded')) {
    out.push({ paths: ['model.weights', 'model.arch'], message: `Expected a path to an .onnx file when model.arch is onnx, got ${JSON.stringify(c.model.weights)}` });
  }
  return out;
}
