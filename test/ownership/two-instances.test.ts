import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/generated/prisma/client';
import { createSimulator } from '../../src/simulator/server';
import { createTestDatabase, SERVER_URL } from '../helpers/database';
import { spawnGateway, type GatewayProcess } from '../helpers/process';
import { signToken } from '../helpers/tokens';
import { processEnv } from '../security/support';

// Two replicas share what they need: a server Postgres. CI always has one.
const testWithPostgres = SERVER_URL ? test : test.skip;

testWithPostgres(
  'when two gateway processes on one Postgres create applications for several teams, then every application has the right owner and the chain verifies',
  async () => {
    const simulator = createSimulator({ developerKey: 'dk-own-two', seed: false });
    const upstream = await simulator.listen(0, '127.0.0.1');
    const db = await createTestDatabase('postgres');
    const env = processEnv(upstream, 'dk-own-two', db.url!);
    const gateways: GatewayProcess[] = [spawnGateway(env), spawnGateway(env)];
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
    try {
      const urls = await Promise.all(gateways.map((g) => g.ready));
      const teams = ['north', 'south', 'east', 'west'];
      const tokens = teams.map((team) =>
        signToken({ sub: `lead-${team}`, roles: ['editor'], claims: { teams: [team] } }),
      );
      const create = async (i: number) => {
        const res = await fetch(`${urls[i % 2]}/v1/applications`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tokens[i % 4]}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: `Two ${i}` }),
        });
        return { team: teams[i % 4] as string, status: res.status, id: ((await res.json()) as { id: string }).id };
      };
      const created = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i)));
      expect(created.map((c) => c.status)).toEqual(Array(40).fill(201));

      const rows = await prisma.applicationOwner.findMany({ orderBy: { applicationId: 'asc' } });
      expect(rows.map((r) => [r.applicationId, r.team])).toEqual(
        created.map((c) => [c.id, c.team]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
      );
      // Each team lists exactly its own ten, on either instance.
      for (const [i, team] of teams.entries()) {
        const list = (await (
          await fetch(`${urls[(i + 1) % 2]}/v1/applications?page_size=100`, {
            headers: { Authorization: `Bearer ${tokens[i]}` },
          })
        ).json()) as { total: number; objects: { id: string }[] };
        expect(list.objects.map((o) => o.id).sort()).toEqual(
          created
            .filter((c) => c.team === team)
            .map((c) => c.id)
            .sort(),
        );
      }
      const auditor = signToken({ sub: 'reviewer', roles: ['auditor'] });
      const verify = (await (
        await fetch(`${urls[0]}/v1/audit/verify`, { headers: { Authorization: `Bearer ${auditor}` } })
      ).json()) as { ok: boolean; entries: number };
      expect(verify).toMatchObject({ ok: true, entries: 80 });
    } finally {
      await prisma.$disconnect();
      for (const g of gateways) g.child.kill('SIGTERM');
      await Promise.all(gateways.map((g) => g.exited));
      await simulator.close();
      await db.drop();
    }
  },
  60_000,
);
