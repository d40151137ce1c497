// The engine client: runs the engine in its own process and gives callers a typed,
// promise-based API. Requests carry ids; tokens stream back; an
// AbortSignal becomes a cancel message. If the process dies, everything in flight
// is rejected with EngineCrashed and the next request starts a fresh process.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CompressResult, EngineInfo } from './engine.ts';
import type { Generation, RuntimeOptions } from './fwd2bot.ts';
import type { TokenEncoding } from './tokenCodec.ts';
import type { EngineOp, EngineOps, EngineReply, EngineRequest, WireError, WireGenerateOptions } from './protocol.ts';

/** How the client talks to a process: child_process here, Electron's utilityProcess in the app. */
export interface EngineTransport {
  send(request: EngineRequest): void;
  onMessage(listener: (reply: EngineReply) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

export type SpawnEngine = () => EngineTransport;

export const HOST_MODULE = fileURLToPath(new URL('./host.ts', import.meta.url));

/** The engine under plain Node: a forked child with structured-clone IPC (typed arrays travel as binary). */
export function forkEngine(): EngineTransport {
  const execArgv = HOST_MODULE.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  const child = fork(HOST_MODULE, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    send: (request) => child.send(request),
    onMessage: (listener) => child.on('message', (m) => listener(m as EngineReply)),
    onExit: (listener) => child.on('exit', (code, signal) => listener(code, signal)),
    kill: () => child.kill('SIGKILL'),
    get pid() {
      return child.pid;
    },
  };
}

export class EngineError extends Error {
  readonly code: string | undefined;
  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    this.code = wire.code;
  }
}

export class EngineCrashed extends Error {
  override name = 'EngineCrashed';
}

interface Pending {
  op: EngineOp;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onToken?: (text: string) => void;
}

export interface GenerateCall extends WireGenerateOptions {
  signal?: AbortSignal;
}

export class EngineClient {
  private transport: EngineTransport | null = null;
  private opened: Promise<EngineInfo> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closing = false;

  constructor(private readonly pack: string, private readonly options: RuntimeOptions = {}, private readonly spawn: SpawnEngine = forkEngine) {}

  /** The process id of the running engine, if one runs. */
  get pid(): number | undefined {
    return this.transport?.pid;
  }

  /** Opens the pack in the engine process, starting the process first if none runs. */
  private start(): Promise<EngineInfo> {
    let transport = this.transport;
    if (transport === null) {
      const fresh = this.spawn();
      fresh.onMessage((reply) => this.onReply(reply));
      fresh.onExit((code, signal) => this.onExit(fresh, code, signal));
      this.transport = transport = fresh;
    }
    const opened = this.call(transport, 'open', { pack: this.pack, options: this.options });
    this.opened = opened;
    // A failed open (a broken pack) must not be cached: the next request tries again.
    opened.catch(() => {
      if (this.opened === opened) this.opened = null;
    });
    return opened;
  }

  private onReply(reply: EngineReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if (reply.type === 'token') p.onToken?.(reply.text);
    else {
      this.pending.delete(reply.id);
      if (reply.type === 'result') p.resolve(reply.value);
      else p.reject(new EngineError(reply.error));
    }
  }

  private onExit(transport: EngineTransport, code: number | null, signal: string | null): void {
    if (this.transport !== transport) return;
    this.transport = null;
    this.opened = null;
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(this.closing
        ? new EngineCrashed(`the engine was closed during ${p.op}`)
        : new EngineCrashed(`the engine process stopped unexpectedly (${how}) during ${p.op}; the next request starts a new engine process`));
    }
  }

  private call<K extends EngineOp>(transport: EngineTransport, op: K, args: EngineOps[K]['args'],
    hooks: Pick<Pending, 'onToken'> = {}, signal?: AbortSignal): Promise<EngineOps[K]['result']> {
    const id = this.nextId++;
    const result = new Promise<EngineOps[K]['result']>((resolve, reject) => {
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, ...hooks });
      transport.send({ id, op, args } as EngineRequest);
    });
    if (signal) {
      const onAbort = () => {
        if (this.transport === transport && this.pending.has(id)) transport.send({ id: this.nextId++, op: 'cancel', args: { target: id } });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    }
    return result;
  }

  private async request<K extends EngineOp>(op: K, args: EngineOps[K]['args'], hooks: Pick<Pending, 'onToken'> = {},
    signal?: AbortSignal): Promise<EngineOps[K]['result']> {
    if (this.closing) throw new EngineCrashed('the engine client is closed');
    signal?.throwIfAborted();
    await (this.opened ?? this.start());
    const transport = this.transport;
    if (transport === null) throw new EngineCrashed('the engine process stopped before the request could be sent; try again');
    return this.call(transport, op, args, hooks, signal);
  }

  info(): Promise<EngineInfo> {
    return this.request('info', {});
  }

  compressImages(inputs: Array<string | Uint8Array>): Promise<CompressResult[]> {
    return this.request('compressImages', { inputs });
  }

  embedText(texts: string[]): Promise<Float32Array[]> {
    return this.request('embedText', { texts });
  }

  /** Engine.scoreText: how well `text` reads as each photo's caption, from cached tokens. */
  scoreText(photos: Array<{ tokens: Uint8Array; encoding?: TokenEncoding }>, text: string, budget?: number): Promise<number[]> {
    return this.request('scoreText', { photos, text, ...(budget === undefined ? {} : { budget }) });
  }

  generate(tokens: Uint8Array, instruction: string, options: GenerateCall = {}, onToken?: (text: string) => void): Promise<Generation> {
    const { signal, ...wire } = options;
    return this.request('generate', { tokens, instruction, options: wire }, onToken ? { onToken } : {}, signal);
  }

  generateFromImage(image: string | Uint8Array, instruction: string, options: GenerateCall = {}, onToken?: (text: string) => void): Promise<Generation> {
    const { signal, ...wire } = options;
    return this.request('generateFromImage', { image, instruction, options: wire }, onToken ? { onToken } : {}, signal);
  }

  /** Stops the engine process; requests in flight are rejected. */
  async close(): Promise<void> {
    this.closing = true;
    const transport = this.transport;
    if (!transport) return;
    await new Promise<void>((resolve) => {
      transport.onExit(() => resolve());
      transport.kill();
    });
  }
}
