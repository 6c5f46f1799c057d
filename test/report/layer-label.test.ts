// Short labels of long layer names: short names whole, long ones by their trailing parts, unique among the layers.
import { describe, expect, it } from 'vitest';
import { layerLabels, LABEL_MAX } from '../../report/layer-label.ts';

describe('layerLabels', () => {
  it('keeps short names (VGG) whole', () => {
    const names = ['block1_conv1', 'block5_conv3'];
    expect([...layerLabels(names).values()]).toEqual(names);
  });

  it('shortens ONNX tensor-derived names to their trailing parts, at most LABEL_MAX characters', () => {
    const names = ['layer1.layer1.0.relu.Relu', 'layer4.layer4.1.relu_2.Relu', 'features.features.28.Relu'];
    const l = layerLabels(names);
    expect(l.get('layer1.layer1.0.relu.Relu')).toBe('…layer1.0.relu.Relu');
    expect(l.get('layer4.layer4.1.relu_2.Relu')).toBe('…layer4.1.relu_2.Relu');
    expect(l.get('features.features.28.Relu')).toBe('…features.28.Relu');
    for (const v of l.values()) expect(v.length).toBeLessThanOrEqual(LABEL_MAX);
  });

  it('labels stay unique: a shared tail falls back to head…tail, and whole names when even that clashes', () => {
    const a = 'encoder.stage1.blocks.0.act.Relu';
    const b = 'decoder.stage1.blocks.0.act.Relu';
    const l = layerLabels([a, b], 16);
    expect(l.get(a)).not.toBe(l.get(b));
    expect(l.get(a)).toBe('encoder.…ct.Relu');
    expect(l.get(b)).toBe('decoder.…ct.Relu');
    const c = 'x'.repeat(30) + '.one';
    const d = 'x'.repeat(30) + 'y.one';
    const m = layerLabels([c, d, 'xxxxxxx…xxxxxxx'], 16);
    expect(new Set(m.values()).size).toBe(3);
    const single = 'averyveryverylongsinglepartname';
    expect(layerLabels([single], 10).get(single)).toBe('…epartname');
  });
});
