// Layers are shown in the network's graph order, never in an order parsed from names (results/layer-order.ts).
import { describe, expect, it } from 'vitest';
import { ExperimentSchema } from '../../config/schema.ts';
import { graphOrder, inGraphOrder } from '../../results/layer-order.ts';

describe('graph order', () => {
  it('sorts found layers by the network order; unknown ones keep their order after the known ones', () => {
    expect(inGraphOrder(['c', 'x', 'a', 'y', 'b'], ['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'x', 'y']);
    expect(inGraphOrder(['c', 'a'], null)).toEqual(['c', 'a']);
  });

  it('VGG16: the analysed layers in the order of the network, whatever order model.layers lists them in', async () => {
    const config = ExperimentSchema.parse({ name: 't', model: { arch: 'vgg16', weights: 'seeded', layers: ['block3_conv1', 'block1_conv2', 'block2_conv1'] } });
    expect(await graphOrder(config)).toEqual(['block1_conv2', 'block2_conv1', 'block3_conv1']);
  });

  it('an ONNX graph that cannot be read now gives no order (callers keep the order they found)', async () => {
    const config = ExperimentSchema.parse({ name: 't', model: { arch: 'onnx', weights: '/nonexistent/net.onnx', layers: ['relu2', 'relu1'] } });
    expect(await graphOrder(config)).toBeNull();
  });
});
