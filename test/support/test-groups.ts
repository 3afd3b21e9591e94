// Consumer groups made by an integration test file, deleted after its last test. Tests run
// against the developer's own stack when it is up, and groups left there pile up in the Kafka
// console. The file-level hook runs after every test's own hooks, so members have left by then.
import { after } from 'node:test';
import { deleteGroups } from './kafka-offsets.ts';

/** Groups by the brokers they live on (joined with commas). */
const made = new Map<string, Set<string>>();

after(async () => {
  for (const [brokers, groups] of made) await deleteGroups(brokers.split(','), [...groups]).catch(() => {});
});

/** Returns `groupId`, to be deleted once the file's tests have ended. */
export function testGroup(brokers: readonly string[], groupId: string): string {
  const key = brokers.join(',');
  let groups = made.get(key);
  if (groups === undefined) made.set(key, (groups = new Set()));
  groups.add(groupId);
  return groupId;
}
