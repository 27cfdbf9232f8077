// Makes sure PostgreSQL and Redis answer on 127.0.0.1 before tests run; starts them if they are
// installed here but down (the commands STACK-FACTS.md gives). Prints one line per service.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';

const reachable = (port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const services = [
  {
    name: 'PostgreSQL',
    port: 5432,
    start: () => {
      if (!existsSync('/etc/postgresql')) return false;
      const version = readdirSync('/etc/postgresql')[0];
      execSync(`pg_ctlcluster --skip-systemctl-redirect ${version} main start`, { stdio: 'inherit' });
      return true;
    },
  },
  {
    name: 'Redis',
    port: 6379,
    start: () => {
      execSync('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log', { stdio: 'inherit' });
      return true;
    },
  },
];

let failed = false;
for (const service of services) {
  if (await reachable(service.port)) {
    console.log(`${service.name}: up on 127.0.0.1:${service.port}`);
    continue;
  }
  console.log(`${service.name}: not answering on 127.0.0.1:${service.port}; starting it`);
  try {
    service.start();
  } catch (error) {
    console.error(`${service.name}: could not start: ${error.message}`);
  }
  let up = false;
  for (let i = 0; i < 40 && !up; i += 1) {
    up = await reachable(service.port);
    if (!up) await sleep(250);
  }
  if (up) console.log(`${service.name}: up on 127.0.0.1:${service.port}`);
  else {
    console.error(`${service.name}: still not reachable on 127.0.0.1:${service.port}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
