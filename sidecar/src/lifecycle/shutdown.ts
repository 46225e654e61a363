import { messageOf } from '../errors';

export interface Stoppable {
  shutdown(): Promise<void>;
  shutdownSync(): void;
}

export interface ShutdownOptions {
  /** Exit when the process that started us is gone (a root sidecar cannot be killed by its user). */
  watchParent?: boolean;
  parentPollMs?: number;
  log?: (line: string) => void;
}

/**
 * Every exit path ends in the same cleanup: SIGINT/SIGTERM/SIGHUP, the parent's death, an
 * uncaught error, and process exit (synchronous last resort for the hosts file). A second signal
 * during a slow shutdown exits at once, after the synchronous cleanup.
 */
export function installShutdown(target: Stoppable, options: ShutdownOptions = {}): (code: number, why: string) => void {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let exiting = false;
  const exit = (code: number, why: string) => {
    if (exiting) {
      log(`kube-forward: ${why} again: exiting now`);
      target.shutdownSync();
      process.exit(code);
    }
    exiting = true;
    log(`kube-forward: ${why}: cleaning up`);
    const force = setTimeout(() => {
      log('kube-forward: cleanup took over 10 s: exiting');
      target.shutdownSync();
      process.exit(code);
    }, 10_000);
    force.unref();
    target.shutdown().catch((error: unknown) => log(`kube-forward: cleanup failed: ${messageOf(error)}`)).finally(() => {
      target.shutdownSync();
      process.exit(code);
    });
  };
  process.on('SIGINT', () => exit(130, 'interrupted'));
  process.on('SIGTERM', () => exit(143, 'terminated'));
  process.on('SIGHUP', () => exit(129, 'hang-up'));
  process.on('exit', () => target.shutdownSync());
  process.on('uncaughtException', (error) => {
    log(`kube-forward: internal error: ${error.stack ?? error.message}`);
    exit(1, 'internal error');
  });
  if (options.watchParent) {
    const parent = process.ppid;
    const timer = setInterval(() => {
      let gone = process.ppid !== parent;
      if (!gone) {
        try {
          process.kill(parent, 0);
        } catch (error) {
          gone = (error as NodeJS.ErrnoException).code === 'ESRCH';
        }
      }
      if (gone) {
        clearInterval(timer);
        exit(0, 'parent process exited');
      }
    }, options.parentPollMs ?? 1000);
    timer.unref();
  }
  return exit;
}
