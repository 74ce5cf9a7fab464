// Process groups a test started, killed when the test process exits however it exits (a failed
// test, a vitest timeout, an uncaught error): a browser left behind would hold one of the
// machine's two cores for every later test.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const groups = new Set<number>();
let hooked = false;

function killGroup(pid: number): void {
  try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  groups.delete(pid);
}

/** Spawns `cmd` as the leader of a new process group, so killing it kills what it started too. */
export function spawnGroup(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  if (!hooked) {
    hooked = true;
    const killAll = (): void => { for (const pid of [...groups]) killGroup(pid); };
    // 'exit' handlers run synchronously; process.kill is synchronous.
    process.once('exit', killAll);
    // A signal skips 'exit': kill, then let the signal do what it would have done.
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        killAll();
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
    }
  }
  const child = spawn(cmd, args, { ...opts, detached: true });
  // Kept until killTree: the group can outlive its leader (MiniBrowser under WebKitWebDriver).
  if (child.pid !== undefined) groups.add(child.pid);
  return child;
}

/** SIGKILLs the child's whole process group; resolves once the leader has exited. Safe twice. */
export async function killTree(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const exited = child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child.pid);
  await exited;
}
