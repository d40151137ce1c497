// The engine process: receives requests from its parent (Electron's parentPort in a
// utilityProcess, or Node's IPC channel under child_process.fork), runs them on one
// Engine, streams tokens back, and honours cancel.
import { Engine } from './engine.ts';
import type { EngineReply, EngineRequest, WireError } from './protocol.ts';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
const send: (reply: EngineReply) => void = parentPort
  ? (reply) => parentPort.postMessage(reply)
  : (reply) => process.send?.(reply);

let engine: Promise<Engine> | null = null;
const running = new Map<number, AbortController>();

function toWire(err: unknown): WireError {
  const e = err as Error & { code?: string };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

const asInput = (x: string | Uint8Array) => (typeof x === 'string' ? x : Buffer.from(x.buffer, x.byteOffset, x.byteLength));

async function handle(req: EngineRequest): Promise<unknown> {
  if (req.op === 'open') {
    engine = Engine.open(req.args.pack, req.args.options);
    return (await engine).info();
  }
  if (req.op === 'cancel') {
    const ctl = running.get(req.args.target);
    ctl?.abort();
    return ctl !== undefined;
  }
  if (engine === null) throw new Error('the engine process has no model pack open');
  const e = await engine;
  const abort = new AbortController();
  running.set(req.id, abort);
  try {
    switch (req.op) {
      case 'info':
        return e.info();
      case 'compressImages':
        return await e.compressImages(req.args.inputs.map(asInput));
      case 'embedText':
        return await e.embedText(req.args.texts);
      case 'scoreText':
        return await e.scoreText(req.args.photos, req.args.text, req.args.budget);
      case 'generate':
        return await e.generate(req.args.tokens, req.args.instruction, { ...req.args.options, signal: abort.signal },
          (text) => send({ id: req.id, type: 'token', text }));
      case 'generateFromImage':
        return await e.generateFromImage(asInput(req.args.image), req.args.instruction, { ...req.args.options, signal: abort.signal },
          (text) => send({ id: req.id, type: 'token', text }));
    }
  } finally {
    running.delete(req.id);
  }
}

function onRequest(req: EngineRequest): void {
  handle(req).then(
    (value) => send({ id: req.id, type: 'result', value }),
    (err: unknown) => send({ id: req.id, type: 'error', error: toWire(err) }),
  );
}

if (parentPort) parentPort.on('message', (e) => onRequest(e.data as EngineRequest));
else {
  process.on('message', (msg) => onRequest(msg as EngineRequest));
  // The parent is gone: nothing will read our answers.
  process.on('disconnect', () => process.exit(0));
}
