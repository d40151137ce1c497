// The engine in Electron: a utilityProcess speaking the same protocol as the
// child_process transport under plain Node (main/engine/client.ts).
import { utilityProcess } from 'electron';
import type { EngineTransport } from '../engine/client.ts';
import type { EngineReply, EngineRequest } from '../engine/protocol.ts';

/** `hostModule`: the bundled JavaScript of main/engine/host.ts. */
export function utilityEngine(hostModule: string): () => EngineTransport {
  return () => {
    const child = utilityProcess.fork(hostModule, [], { serviceName: 'Glimpse engine', stdio: 'inherit' });
    return {
      send: (request: EngineRequest) => child.postMessage(request),
      onMessage: (listener) => child.on('message', (reply: EngineReply) => listener(reply)),
      onExit: (listener) => child.on('exit', (code) => listener(code, null)),
      kill: () => {
        child.kill();
      },
      get pid() {
        return child.pid;
      },
    };
  };
}
