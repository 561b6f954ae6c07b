import type { Store } from '../../engine/store.ts';
import { PgliteStore } from '../../engine/store-pglite.ts';
import { PostgresStore } from '../../engine/store-postgres.ts';

/**
 * Every implementation of the store interface, for `describe.each`: one suite runs against the embedded PGlite and the
 * real PostgreSQL started by the integration global setup.
 */
export const storeImplementations: [name: string, open: () => Promise<Store>][] = [
  ['pglite', () => PgliteStore.open()],
  [
    'postgres',
    async () => {
      const url = process.env['DATABASE_URL'];
      if (!url) throw new Error('DATABASE_URL is not set: the integration global setup starts PostgreSQL');
      return new PostgresStore(url);
    },
  ],
];
