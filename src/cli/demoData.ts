// The data-space part of `credence demo`: register the nine schemas by governance, generate
// synthetic sources (written under DIR/sources/), import each through its provider's node,
// and expire a negative record whose retention has passed.

import { join } from 'node:path';
import { BUILTIN_SCHEMAS } from '../dataspace/schemas/catalog.js';
import { FULL_SCALE, SMALL_SCALE, SyntheticData } from '../dataspace/synthetic.js';
import type { CredenceClient } from '../sdk/client.js';
import { ProviderClient } from '../sdk/provider.js';
import { CredenceError } from '../util/errors.js';
import { importFile, registerSchemas } from './data.js';
import { type DataStoryOptions, subjectStory } from './demoStory.js';
import type { NetworkLayout } from './network.js';

export async function dataStory(layout: NetworkLayout, clients: CredenceClient[], o: DataStoryOptions): Promise<void> {
  const byOrg = new Map(layout.nodes.map((n, i) => [n.orgId, clients[i] as CredenceClient]));
  const [first, ...rest] = clients;
  if (first === undefined) throw new CredenceError('DEMO_FAILED', 'no nodes');
  o.say('data space:');
  await registerSchemas(
    first,
    rest,
    BUILTIN_SCHEMAS.map((s) => s.id),
  );
  const registered = (await new ProviderClient(first).schemas()).registered;
  o.check(registered.length === BUILTIN_SCHEMAS.length, `${registered.length} credit-data schemas registered by governance vote`);

  const data = new SyntheticData(o.small ? SMALL_SCALE : FULL_SCALE);
  const sources = data.write(join(layout.dir, 'sources'));
  o.say(
    `  generated ${data.smes.length} SMEs, ${data.persons.length} persons, ${data.scale.years} years: ${sources.reduce((n, s) => n + s.rows, 0)} records in ${join(layout.dir, 'sources')}`,
  );
  for (const s of sources) {
    const client = byOrg.get(s.provider);
    if (client === undefined) {
      o.say(`  (skipping ${s.schema}: provider ${s.provider} is not in this network)`);
      continue;
    }
    const r = await importFile(client, s.file, s.schema, { progress: true });
    o.check(
      r.errors === 0 && r.pending === 0 && r.anchored === s.rows,
      `${s.provider} imported ${r.anchored}/${s.rows} ${s.schema} records in ${r.batches} anchored batches`,
    );
  }

  await subjectStory(layout, byOrg, data, o);

  const court = byOrg.get('court');
  if (court !== undefined) {
    const sweep = await new ProviderClient(court).sweepExpired();
    const id = sweep.expired[0];
    o.check(sweep.expired.length === 1 && id !== undefined, 'expiry: a judgment whose conduct ended over 5 years ago was swept');
    const entry = (await court.state(`rec/${id}`)).value as { status?: string } | null;
    o.check(entry?.status === 'expired', 'expiry: the chain shows the record expired, and the court vault destroyed its key');
    const stats = await new ProviderClient(court).vaultStats();
    o.check(stats.destroyed === 1, `court vault: ${stats.live} live records, ${stats.destroyed} destroyed`);
  }
}
