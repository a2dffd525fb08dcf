/**
 * The functions a V8 CPU profile spent most of its own time in (self time), grouped by function and file,
 * with the share of the whole profile. For the gateway under load:
 *
 *   npm run bench -- --profile          (writes the gateway's profile to bench/profiles/, then prints this)
 *   npx tsx bench/profile.ts <file.cpuprofile> [top=30]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  share: number;
}

export function hotSpots(
  file: string,
  top = 30,
): { totalMs: number; idleShare: number; spots: HotSpot[]; byPackage: { name: string; share: number }[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const grouped = new Map<string, HotSpot>();
  const packages = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idleUs += us;
    const where = url ? `${shortPath(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const spot = grouped.get(key) ?? { fn: functionName || '(anonymous)', where, selfMs: 0, share: 0 };
    spot.selfMs += us / 1000;
    grouped.set(key, spot);
    const pkg = packageOf(url, functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const spots = [...grouped.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const s of spots) s.share = (s.selfMs * 1000) / totalUs;
  const byPackage = [...packages]
    .map(([name, us]) => ({ name, share: us / totalUs }))
    .sort((a, b) => b.share - a.share);
  return { totalMs: totalUs / 1000, idleShare: idleUs / totalUs, spots, byPackage };
}

function shortPath(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  return nm >= 0
    ? path.slice(nm + 'node_modules/'.length)
    : path.startsWith('/')
      ? relative(process.cwd(), path)
      : path;
}

/** Which package (or the gateway's own code, or node itself) a frame belongs to. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return 'node core';
  return 'gateway';
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx bench/profile.ts <file.cpuprofile> [top]');
  const { totalMs, idleShare, spots, byPackage } = hotSpots(file, Number(process.argv[3] ?? 30));
  process.stdout.write(
    `profile: ${(totalMs / 1000).toFixed(1)} s, idle ${(idleShare * 100).toFixed(1)}%\n\nself time by package:\n`,
  );
  for (const p of byPackage.slice(0, 15))
    process.stdout.write(`  ${(p.share * 100).toFixed(1).padStart(5)}%  ${p.name}\n`);
  process.stdout.write('\ntop functions by self time:\n');
  for (const s of spots)
    process.stdout.write(
      `  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.selfMs.toFixed(0).padStart(6)} ms  ${s.fn}  ${s.where}\n`,
    );
}
