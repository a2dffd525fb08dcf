/**
 * openid-client and oidc-provider ship only as ES modules. `new Function` keeps TypeScript (module: commonjs)
 * from turning the import() into a require(), which jest's module registry cannot load; under Node the import
 * is native. Jest needs --experimental-vm-modules, as `npm test` runs it.
 */
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
