// The activations stage's layer columns are found in tables as the pipeline reads them back from disk (IPC), where
// list items are typed Float (precision SINGLE) rather than the Float32 class they were written with.
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { layerColumns } from '../../stages/unit-columns.ts';
import { layerListVector, numberVector, tableWithMetadata } from '../fixtures/arrow-tables.ts';

describe('layerColumns', () => {
  it('finds FixedSizeList<Float32> columns in memory and after an IPC round trip, and nothing else', () => {
    const t = tableWithMetadata(
      { stimulus: numberVector(Int32Array.of(0, 1)), theta_deg: numberVector(Float64Array.of(0, 15)), 'relu.Relu': layerListVector(new Float32Array(6), 3), 'layer1.Add': layerListVector(new Float32Array(4), 2) },
      {},
    );
    expect(layerColumns(t)).toEqual(['relu.Relu', 'layer1.Add']);
    // what every all-layers shard (ONNX + model.layers: all) and category.fdrFamily: network read
    expect(layerColumns(tableFromIPC(tableToIPC(t, 'file')))).toEqual(['relu.Relu', 'layer1.Add']);
  });
});
