// A child process's stderr, line by line, for the log: each non-blank line cut to `max`
// characters, and a line still being written held to `max` too, so a child that writes
// without newlines cannot grow our memory.
import type { Readable } from 'node:stream';

export function onStderrLines(stream: Readable, max: number, line: (text: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = (lines.pop() ?? '').slice(-max);
    for (const l of lines) if (l.trim()) line(l.slice(0, max));
  });
}
