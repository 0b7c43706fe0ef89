import * as h from '/work/wt/initoom/out/test/integration/harness.js';
import * as fs from 'node:fs';
const d = await h.startDaemon();
try {
  fs.chmodSync(d.base, 0o711);
  fs.writeFileSync(d.base + '/daemon.json', JSON.stringify({ 'userns-remap': 'default' }));
  await d.restart();
  await h.importBusybox(d);
  const show = async (...a) => { const r = await h.docker(d, ...a); console.log('$ docker', a.join(' '), '->', r.code, r.stdout.trim(), r.stderr.trim()); return r; };
  await show('run', '--rm', 'busybox', 'id');
  await show('run', '--rm', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; ls -ln / | head -5; echo x > /tmp/f && ls -ln /tmp/f');
  fs.mkdirSync(d.base + '/bind', { recursive: true }); fs.chmodSync(d.base + '/bind', 0o777);
  await show('run', '--rm', '-v', d.base + '/bind:/b', 'busybox', 'sh', '-c', 'touch /b/written; ls -ln /b');
  console.log(fs.statSync(d.base + '/bind/written'));
  const r = await show('run', '-d', 'busybox', 'sleep', '60');
  const id = r.stdout.trim();
  const pid = JSON.parse((await h.docker(d, 'inspect', id)).stdout)[0].State.Pid;
  console.log(fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(Uid|Gid)/.test(l)));
  await show('exec', id, 'id');
  await show('exec', id, 'sh', '-c', 'echo hi > /etc/hosts.x; ls -ln /etc/hosts /etc/hosts.x');
  await show('run', '--rm', '--userns', 'host', 'busybox', 'cat', '/proc/self/uid_map');
  await show('run', '--rm', '-w', '/newdir', 'busybox', 'pwd');
  await show('run', '--rm', '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'ls -ldn /data; touch /data/x && ls -ln /data');
  await show('run', '--rm', '-v', 'vol2:/etc', 'busybox', 'sh', '-c', 'ls -ldn /etc /etc/passwd; touch /etc/x && echo ok');
  await show('rm', '-f', id);
  console.log(fs.readFileSync(d.base + '/berthd.log', 'utf8').split('\n').filter((l) => /remap|error|warn/i.test(l)).slice(0, 10).join('\n'));
} finally {
  await d.stop();
}
