/**
 * A byte-level TCP proxy on loopback that can be cut and restored: the network between the relay
 * and PostgreSQL going away (every connection reset, new ones refused) and coming back.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/** A loopback TCP proxy to `127.0.0.1:target`. */
export class TcpProxy {
  private readonly sockets = new Set<Socket>()
  private cutOff = false
  private frozen = false

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listen on an ephemeral loopback port, forwarding to `127.0.0.1:target`. */
  static async start(target: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined
    const server = createServer((client) => proxy?.accept(client, target))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    proxy = new TcpProxy(server, port)
    return proxy
  }

  /** Reset every connection and refuse new ones until {@link TcpProxy.restore}. */
  cut(): void {
    this.cutOff = true
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
  }

  /** Accept connections again. */
  restore(): void {
    this.cutOff = false
  }

  /** Freeze: connections stay open but no byte moves (a stalled server) until {@link TcpProxy.thaw}. */
  freeze(): void {
    this.frozen = true
    for (const s of this.sockets) s.pause()
  }

  /** Let bytes move again. */
  thaw(): void {
    this.frozen = false
    for (const s of this.sockets) s.resume()
  }

  /** Close the proxy and every connection through it. */
  async close(): Promise<void> {
    this.cut()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private accept(client: Socket, target: number): void {
    if (this.cutOff) return void client.destroy()
    const upstream = tcpConnect(target, '127.0.0.1')
    for (const s of [client, upstream]) {
      this.sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        this.sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
    if (this.frozen) for (const s of [client, upstream]) s.pause()
  }
}
