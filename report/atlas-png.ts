// A still RF atlas for documents: one PNG montage, a row per layer, a few units per row, each unit drawn as its
// maps side by side (AWA, leading AWC eigenvectors, energy map) with the report's colour scales (report/images.ts).
// Units are picked by how strongly their reconstruction stands out (pickUnits), so a row shows the layer's best.
import sharp, { type OverlayOptions } from 'sharp';
import type { LayerJson, UnitJson } from './units.ts';

/** A map a unit cell can show: the AWA, the k-th excitatory AWC eigenvector, or the AWC energy map. */
export type AtlasMap = 'awa' | 'e1' | 'e2' | 'e3' | 'e4' | 'energy';

/** The maps a cell may show, for option parsing. */
export const ATLAS_MAPS: readonly AtlasMap[] = ['awa', 'e1', 'e2', 'e3', 'e4', 'energy'];

/** Layout of the montage. */
export interface AtlasLayout {
  /** Side of one map in the PNG (pixels). */
  cell: number;
  /** Pixels between the maps of one unit. */
  inner: number;
  /** Pixels between units, between layer rows and around the edge. */
  gap: number;
}

/** Default layout: 48-px maps, 2 px apart, 10 px between units and rows. */
export const DEFAULT_LAYOUT: AtlasLayout = { cell: 48, inner: 2, gap: 10 };

/** One picked unit: its channel and why it ranks where it does. */
export interface PickedUnit {
  channel: number;
  /** λ₁ / null upper edge (NaN without AWC). */
  awcRatio: number;
  /** max |z| of the AWA (NaN without AWA). */
  awaZ: number;
  /** Significant excitatory AWC eigenvalues. */
  nSig: number;
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/**
 * The K units of a layer to show: units with a significant AWC eigenvalue first, by λ₁ / null edge (largest
 * first); then units with a significant AWA, by max |z|; then the rest by channel. Deterministic.
 */
export function pickUnits(units: readonly UnitJson[], k: number): PickedUnit[] {
  const all = units.map((u) => {
    const ev = Array.isArray(u['ev']) ? (u['ev'] as unknown[]) : [];
    return { channel: Number(u['c']), awcRatio: n(ev[0]) / n(u['nu']), awaZ: n(u['z']), nSig: n(u['ns']) || 0, awaSig: u['as'] === 1 };
  });
  const tier = (u: (typeof all)[number]) => (u.nSig > 0 ? 0 : u.awaSig ? 1 : 2);
  const score = (u: (typeof all)[number]) => (tier(u) === 0 ? u.awcRatio : tier(u) === 1 ? u.awaZ : -u.channel);
  all.sort((a, b) => tier(a) - tier(b) || (score(b) || 0) - (score(a) || 0) || a.channel - b.channel);
  return all.slice(0, Math.max(0, k)).map(({ awaSig: _s, ...p }) => p);
}

/** Size of the montage for `rows` layers of at most `cols` units with `maps` maps each. */
export function atlasSize(rows: number, cols: number, maps: number, l: AtlasLayout = DEFAULT_LAYOUT): { width: number; height: number; unitWidth: number } {
  const unitWidth = maps * l.cell + Math.max(0, maps - 1) * l.inner;
  return { width: l.gap + cols * (unitWidth + l.gap), height: l.gap + rows * (l.cell + l.gap), unitWidth };
}

/** Top-left corner of map m of unit j in layer row i. */
export function cellOrigin(i: number, j: number, m: number, maps: number, l: AtlasLayout = DEFAULT_LAYOUT): { left: number; top: number } {
  const { unitWidth } = atlasSize(1, 1, maps, l);
  return { left: l.gap + j * (unitWidth + l.gap) + m * (l.cell + l.inner), top: l.gap + i * (l.cell + l.gap) };
}

/** The data URI of one map of a unit from the report's atlas JSON (null when the unit has none). */
function mapUri(u: UnitJson, m: AtlasMap): string | null {
  const im = (u['im'] ?? {}) as Record<string, unknown>;
  if (m === 'awa') return typeof im['a'] === 'string' ? im['a'] : null;
  if (m === 'energy') return typeof im['e'] === 'string' ? im['e'] : null;
  const top = Array.isArray(im['t']) ? (im['t'] as unknown[]) : [];
  const v = top[Number(m.slice(1)) - 1];
  return typeof v === 'string' ? v : null;
}

/** What renderAtlas drew, row by row (for captions). */
export interface AtlasRow {
  layer: string;
  units: PickedUnit[];
}

/**
 * Renders the montage as a PNG: one row per layer (in the given order), its best `perLayer` units, each unit's
 * `maps` left to right. A map a unit lacks (no significant AWA map, eigenvector not kept) is a flat mid-grey cell.
 */
export async function renderAtlas(layers: readonly LayerJson[], perLayer: number, maps: readonly AtlasMap[], l: AtlasLayout = DEFAULT_LAYOUT): Promise<{ png: Buffer; rows: AtlasRow[]; width: number; height: number }> {
  if (maps.length === 0) throw new RangeError('atlas maps: expected at least one of ' + ATLAS_MAPS.join(', ') + ', got none');
  const rows: AtlasRow[] = layers.map((L) => ({ layer: L.name, units: pickUnits(L.units, perLayer) }));
  const cols = Math.max(1, ...rows.map((r) => r.units.length));
  const { width, height } = atlasSize(rows.length, cols, maps.length, l);
  const grey = await sharp({ create: { width: l.cell, height: l.cell, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer();
  const layersOut: OverlayOptions[] = [];
  for (let i = 0; i < rows.length; i++) {
    const byChannel = new Map(layers[i]!.units.map((u) => [Number(u['c']), u]));
    for (let j = 0; j < rows[i]!.units.length; j++) {
      const u = byChannel.get(rows[i]!.units[j]!.channel)!;
      for (let m = 0; m < maps.length; m++) {
        const uri = mapUri(u, maps[m]!);
        const input = uri
          ? await sharp(Buffer.from(uri.slice(uri.indexOf(',') + 1), 'base64')).resize(l.cell, l.cell, { kernel: 'nearest' }).png().toBuffer()
          : grey;
        layersOut.push({ input, ...cellOrigin(i, j, m, maps.length, l) });
      }
    }
  }
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layersOut)
    .png({ compressionLevel: 9, palette: true, colours: 128, dither: 0 })
    .toBuffer();
  return { png, rows, width, height };
}
