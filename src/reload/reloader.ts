import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import type { AuditKeys } from '../audit/trail/keys';
import type { AuditRecorder } from '../audit/recording/recorder';
import { ConfigError } from '../config/load';
import type { Metrics } from '../metrics/metrics';
import { loadPolicy, type Policy } from '../policy/policy';

export type ReloadTrigger = 'SIGHUP' | 'file-change';

export interface Reloadable {
  developerKey: string;
  policy: Policy;
}

export interface ReloaderOptions {
  state: Reloadable;
  developerKeyFile?: string;
  policyFile?: string;
  logger: Logger;
  recorder: AuditRecorder;
  keys: AuditKeys;
  metrics?: Metrics;
  watchIntervalMs?: number;
}

export interface Reloader {
  /** Re-reads the DeveloperKey file and the policy file; each change (or refusal) is audited. */
  reload(trigger: ReloadTrigger): Promise<void>;
  stop(): void;
}

/**
 * Rotation without downtime. The DeveloperKey file is watched (and re-read on SIGHUP); the policy file is
 * re-read on SIGHUP. An unreadable key file or an invalid policy keeps what is in force and says so loudly.
 * The audit trail records every rotation with HMAC fingerprints of the keys, never the keys.
 */
export function createReloader(o: ReloaderOptions): Reloader {
  const count = (what: string, result: string) => o.metrics?.rotations.inc({ what, result });

  async function reloadDeveloperKey(trigger: ReloadTrigger): Promise<void> {
    if (!o.developerKeyFile) return;
    let next: string;
    try {
      next = readFileSync(o.developerKeyFile, 'utf8').replace(/\r?\n$/, '');
      if (!next) throw new Error('the file is empty');
    } catch (err) {
      o.logger.error(
        { file: o.developerKeyFile, err: { message: (err as Error).message } },
        'DeveloperKey file unreadable: keeping the key in force',
      );
      count('developer_key', 'rejected');
      await o.recorder
        .recordSystem('rotation.developer_key', { trigger, result: 'rejected', reason: (err as Error).message })
        .catch(() => undefined);
      return;
    }
    if (next === o.state.developerKey) return;
    const before = o.keys.fingerprint(o.state.developerKey);
    o.state.developerKey = next;
    o.logger.warn({ trigger }, 'DeveloperKey rotated: new requests use the new key');
    count('developer_key', 'rotated');
    await o.recorder
      .recordSystem('rotation.developer_key', {
        trigger,
        result: 'rotated',
        previous_fingerprint: before,
        fingerprint: o.keys.fingerprint(next),
      })
      .catch(() => undefined);
  }

  async function reloadPolicy(trigger: ReloadTrigger): Promise<void> {
    if (!o.policyFile) return;
    try {
      o.state.policy = loadPolicy(o.policyFile);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
      o.logger.error(
        { file: o.policyFile, problems },
        'POLICY REJECTED: the new policy file is invalid; the previous policy stays in force',
      );
      count('policy', 'rejected');
      await o.recorder
        .recordSystem('rotation.policy', { trigger, file: o.policyFile, result: 'rejected', problems })
        .catch(() => undefined);
      return;
    }
    o.logger.warn(
      { trigger, file: o.policyFile, roles: Object.keys(o.state.policy.document.roles) },
      'policy reloaded',
    );
    for (const warning of o.state.policy.warnings) o.logger.warn({ file: o.policyFile }, warning);
    count('policy', 'reloaded');
    await o.recorder
      .recordSystem('rotation.policy', {
        trigger,
        file: o.policyFile,
        result: 'reloaded',
        roles: o.state.policy.document.roles,
      })
      .catch(() => undefined);
  }

  // Polling, not fs.watch: Kubernetes swaps mounted secrets through a symlink, which inotify watchers miss.
  if (o.developerKeyFile)
    watchFile(
      o.developerKeyFile,
      { interval: o.watchIntervalMs ?? 2_000 },
      () => void reloadDeveloperKey('file-change'),
    );

  return {
    async reload(trigger) {
      await reloadDeveloperKey(trigger);
      await reloadPolicy(trigger);
    },
    stop() {
      if (o.developerKeyFile) unwatchFile(o.developerKeyFile);
    },
  };
}
