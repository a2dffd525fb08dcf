import { randomUUID } from 'node:crypto';

/**
 * openid-client and oidc-provider ship only as ES modules. `new Function` keeps TypeScript (module: commonjs)
 * from turning the import() into a require(), which jest's module registry cannot load; under Node the import
 * is native. Jest needs --experimental-vm-modules, as `npm test` runs it.
 *
 * The source is made unique per evaluation: V8 may reuse a function compiled from the same source text, with the
 * dynamic-import hook of the jest environment that compiled it first, so after that test file was torn down the
 * import failed ("import a file after the Jest environment has been torn down", seen with 60 files in one run).
 */
export const importEsm = new Function('specifier', `return import(specifier); // ${randomUUID()}`) as <T>(
  specifier: string,
) => Promise<T>;
