import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The gateway as the product that logged an event (OCSF `metadata.product`), from package.json. */
export const PRODUCT = {
  name: 'Kloudless Management Gateway',
  version: (JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version,
};
