/** The team the local default's example applications belong to: `npm run token -- --teams demo` reaches them. */
export const DEMO_TEAM = 'demo';
