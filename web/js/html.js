// Preact + htm, loaded by relative URL from /vendor/ (no CDN, and no import map: an inline one
// would break the strict CSP, script-src 'self'). Every module renders through this `html`.
import { h, render, Component, createRef } from '../vendor/preact.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
export { h, render, Component, createRef };
