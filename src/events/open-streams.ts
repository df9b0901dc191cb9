/** How a live stream is carried. */
export type StreamKind = 'websocket' | 'sse';

interface OpenStream {
  kind: StreamKind;
  /** The instance whose token opened it, if any. */
  instanceId?: string;
  /** Ends the stream from the server's side, saying why. */
  end(reason: string): void;
}

/**
 * Every live event stream this process serves (WebSocket and SSE), with who opened it: the
 * metrics count them, and an instance's streams can be ended when it is deregistered.
 */
export class OpenStreams {
  private readonly streams = new Set<OpenStream>();

  /** Records an open stream; returns what to call when it closes. */
  add(stream: OpenStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  /** The instances with at least one open stream (each a sign of life, SPEC §18). */
  instanceIds(): Set<string> {
    const ids = new Set<string>();
    for (const stream of this.streams) if (stream.instanceId) ids.add(stream.instanceId);
    return ids;
  }

  count(kind: StreamKind): number {
    let n = 0;
    for (const stream of this.streams) if (stream.kind === kind) n++;
    return n;
  }

  /** Ends every stream opened with the instance's token; returns how many. */
  endInstance(instanceId: string, reason: string): number {
    let ended = 0;
    for (const stream of [...this.streams]) {
      if (stream.instanceId !== instanceId) continue;
      stream.end(reason);
      ended++;
    }
    return ended;
  }
}

declare module '../kernel/context.js' {
  interface AppContext {
    /** The live streams this process serves. */
    streams: OpenStreams;
  }
}
