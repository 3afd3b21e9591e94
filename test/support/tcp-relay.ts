import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP relay in front of a server (`host:port`) that a test can cut and restore on the same
 * port: an outage of Cassandra's only node, or of Kafka's bootstrap address, without stopping
 * the service other tests share.
 */
export async function relay(t: TestContext, target: string): Promise<{ port: number; cut: () => Promise<void>; restore: () => Promise<void> }> {
  const [host, portText] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
  const sockets = new Set<Socket>();
  const open = (): Server =>
    createServer((client) => {
      const upstream = connect(Number(portText), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => s.destroy());
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  const listen = (server: Server, port: number): Promise<void> => new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  let server: Server | undefined = open();
  await listen(server, 0);
  const port = (server.address() as { port: number }).port;
  const cut = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    if (closing === undefined) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  t.after(cut);
  return {
    port,
    cut,
    restore: async () => {
      const next = open();
      await listen(next, port);
      server = next;
    },
  };
}
