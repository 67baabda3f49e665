// Worker threads start without the parent's module hooks: register tsx here, as bin/caliopen.js
// does for the main thread, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./analyze-worker.ts');
