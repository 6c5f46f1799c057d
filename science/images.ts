// Pure helpers for natural-image stimuli (docs/method.md §3): deterministic natural file order, short-side resize
// geometry, centre crop to HWC RGB Float32 (0–255). Decoding lives in stages/images-io.ts (sharp).

const isDigit = (code: number) => code >= 48 && code <= 57;

/**
 * Natural order, locale-independent: digit runs compare as numbers ('img-2' < 'img-10'), other characters by
 * UTF-16 code unit; ties (e.g. 'a01' vs 'a1') fall back to plain code-unit order so the order is total.
 */
export function naturalCompare(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ie = i;
      let je = j;
      while (ie < a.length && isDigit(a.charCodeAt(ie))) ie++;
      while (je < b.length && isDigit(b.charCodeAt(je))) je++;
      const x = a.slice(i, ie).replace(/^0+(?=\d)/, '');
      const y = b.slice(j, je).replace(/^0+(?=\d)/, '');
      if (x.length !== y.length) return x.length - y.length;
      if (x !== y) return x < y ? -1 : 1;
      i = ie;
      j = je;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  if (a.length - i !== b.length - j) return a.length - i - (b.length - j);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Size after resizing the short side to `short`, keeping the aspect ratio (long side rounded, ≥ short). */
export function shortSideSize(width: number, height: number, short: number): { width: number; height: number } {
  if (!(width > 0 && height > 0)) throw new RangeError(`image size: expected positive width and height, got ${width}×${height}`);
  if (width <= height) return { width: short, height: Math.max(short, Math.round((height * short) / width)) };
  return { width: Math.max(short, Math.round((width * short) / height)), height: short };
}

/** Top-left corner of the centred size×size crop of a width×height image (floor of half the margin). */
export function centreCropOrigin(width: number, height: number, size: number): { left: number; top: number } {
  if (size > width || size > height) throw new RangeError(`centre crop: ${size}×${size} does not fit in ${width}×${height}`);
  return { left: Math.floor((width - size) / 2), top: Math.floor((height - size) / 2) };
}

/**
 * Centre size×size crop of interleaved 8-bit pixels (1 channel: grey, replicated; 3 or more: the first three
 * as R, G, B) as HWC RGB Float32 values 0–255.
 */
export function centreCropRGB(pixels: Uint8Array, width: number, height: number, channels: number, size: number): Float32Array {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`pixels: expected ${width}×${height}×${channels} = ${width * height * channels} values, got ${pixels.length}`);
  }
  if (channels !== 1 && channels < 3) throw new RangeError(`pixels: expected 1 or ≥ 3 channels, got ${channels}`);
  const { left, top } = centreCropOrigin(width, height, size);
  const out = new Float32Array(size * size * 3);
  let o = 0;
  for (let r = 0; r < size; r++) {
    let i = ((top + r) * width + left) * channels;
    for (let c = 0; c < size; c++, i += channels) {
      if (channels === 1) {
        out[o++] = pixels[i];
        out[o++] = pixels[i];
        out[o++] = pixels[i];
      } else {
        out[o++] = pixels[i];
        out[o++] = pixels[i + 1];
        out[o++] = pixels[i + 2];
      }
    }
  }
  return out;
}
