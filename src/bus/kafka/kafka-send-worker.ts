// The worker-thread side of WorkerSender: one ClientSender, driven by messages. The Kafka
// client's per-record work (record batches, varints, CRC, compression) runs here, off the
// thread that also parses frames and runs the engine.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Logger, LogFields } from '../../observability/index.ts';
import { ClientSender } from './kafka-record-sender.ts';
import { messageOf } from './kafka-options.ts';
import { unpackRecords, type SendReply, type SendRequest, type SendWorkerData, type SendWorkerLogLine } from './kafka-send-wire.ts';

function portLogger(port: MessagePort): Logger {
  const send = (log: SendWorkerLogLine['log']) => (message: string, fields?: LogFields) => {
    const line: SendWorkerLogLine = { log, message, ...(fields === undefined ? {} : { fields }) };
    port.postMessage(line);
  };
  const logger: Logger = { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error'), child: () => logger };
  return logger;
}

/** One Buffer per distinct key (bounded), so the sender's per-key partition cache keeps hitting. */
function keyInterner(limit: number): (key: Buffer) => Buffer {
  const known = new Map<string, Buffer>();
  return (key) => {
    const text = key.toString('latin1');
    let found = known.get(text);
    if (found === undefined) {
      if (known.size >= limit) known.clear();
      found = Buffer.from(key);
      known.set(text, found);
    }
    return found;
  };
}

const port = parentPort;
if (port === null) throw new Error('kafka-send-worker runs in a worker thread');
const sender = new ClientSender(workerData as SendWorkerData, portLogger(port));
const intern = keyInterner(4_096);

port.on('message', (request: SendRequest | 'close') => {
  if (request === 'close') {
    void sender.close().catch(() => {}).finally(() => port.close());
    return;
  }
  let records;
  try {
    records = unpackRecords(request.batch, intern);
  } catch (error) {
    port.postMessage({ id: request.id, ok: false, message: messageOf(error) } satisfies SendReply);
    return;
  }
  sender.send(request.topic, records).then(
    () => port.postMessage({ id: request.id, ok: true } satisfies SendReply),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, message: messageOf(error) } satisfies SendReply),
  );
});
