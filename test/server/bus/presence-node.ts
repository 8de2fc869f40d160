// A presence node in its own process, for the SIGKILL test: connects, sets the counts given in
// argv (`room=count`), waits for its first heartbeat to land, prints "ready" and then just runs
// until it is killed.
import { RedisPresence } from '../../../src/server/bus/redis-presence.js';

const [url, prefix, nodeId, ...counts] = process.argv.slice(2);
if (!url || !prefix || !nodeId) throw new Error('usage: presence-node <url> <prefix> <nodeId> room=count...');
const presence = await RedisPresence.connect({ url, prefix, nodeId, onError: (e) => console.error(String(e)) });
for (const pair of counts) {
  const [room, count] = pair.split('=');
  await presence.set(room!, Number(count));
}
process.stdout.write('ready\n');
setInterval(() => {}, 60_000); // keep running: the presence timer is unref()ed
