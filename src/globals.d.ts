/** Injected by esbuild (build.mjs) and vitest (vitest.config.ts). */
declare const __EUCA_VERSION__: string;
