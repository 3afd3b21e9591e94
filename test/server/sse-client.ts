import { request, type IncomingMessage } from 'node:http';
import type { TestContext } from 'node:test';

export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

export interface SseClient {
  readonly events: SseEvent[];
  readonly comments: string[];
  readonly response: IncomingMessage;
  close(): void;
}

/** Connects to an SSE URL and collects parsed events; closed after the test. */
export async function connectSse(t: TestContext, url: string): Promise<SseClient> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      let isComment = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          comments.push(line.slice(1).trim());
          isComment = true;
        } else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) events.push({ event, data: data.join('\n') });
      else if (!isComment && event !== 'message') events.push({ event, data: '' });
    }
  });
  response.on('error', () => {});
  const close = (): void => {
    response.destroy();
  };
  t.after(close);
  return { events, comments, response, close };
}
