#!/usr/bin/env node
// The `caliopen` command. The sources are TypeScript, loaded through tsx (no build step to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../server/cli.ts');
await main(process.argv.slice(2));
