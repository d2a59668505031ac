// Just enough of the NATS client protocol to delete the JetStream stream a test created
// ($JS.API.STREAM.DELETE.<name> request), so the shared NATS server keeps nothing of the test.

import net from 'node:net';

export function deleteStream(natsUrl, stream, timeoutMs = 5000) {
  const url = new URL(natsUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 4222), url.hostname);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no answer from NATS')); }, timeoutMs);
    let buffer = '';
    let sent = false;
    socket.setEncoding('utf8');
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('data', (chunk) => {
      buffer += chunk;
      if (!sent && buffer.includes('INFO ')) {
        sent = true;
        const inbox = `_INBOX.lockstep.${Date.now()}`;
        socket.write(`CONNECT {"verbose":false,"pedantic":false,"headers":false}\r\nSUB ${inbox} 1\r\n` +
          `PUB $JS.API.STREAM.DELETE.${stream} ${inbox} 0\r\n\r\n`);
      }
      const reply = buffer.match(/MSG \S+ 1 \d+\r\n(.*)\r\n/);
      if (reply) {
        clearTimeout(timer);
        socket.end();
        const answer = JSON.parse(reply[1]);
        if (answer.success || answer.error?.code === 404) resolve(answer);
        else reject(new Error(JSON.stringify(answer.error)));
      }
      if (buffer.includes('PING\r\n')) socket.write('PONG\r\n');
    });
  });
}
