// Worker thread hosting one ONNX Runtime session (plain JS: no TypeScript loader needed). onnxruntime-node's
// run() blocks its thread for the whole forward pass; here it blocks this worker, not the pipeline's event loop.
// Messages: {id, type: 'create', bytes, options} | {id, type: 'run', input, pixels, dims, outputs} | {id, type: 'release'}.
// Tested in test/model/session.test.ts.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';

let session;

parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'create') {
      session = await ort.InferenceSession.create(msg.bytes, msg.options);
      parentPort.postMessage({ id: msg.id, ok: true });
    } else if (msg.type === 'run') {
      const result = await session.run({ [msg.input]: new ort.Tensor('float32', msg.pixels, msg.dims) });
      const values = {};
      const transfer = [msg.pixels.buffer];
      for (const name of msg.outputs) {
        const copy = Float32Array.from(result[name].data);
        values[name] = copy;
        transfer.push(copy.buffer);
      }
      // The pixel buffer goes back so the caller can reuse it for the next batch.
      parentPort.postMessage({ id: msg.id, ok: true, values, pixels: msg.pixels }, transfer);
    } else if (msg.type === 'release') {
      await session?.release();
      session = undefined;
      parentPort.postMessage({ id: msg.id, ok: true });
    }
  } catch (err) {
    parentPort.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
});
