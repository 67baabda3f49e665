/** Types of bundle.js (plain JavaScript: bin/caliopen.js loads it before TypeScript can load). */
export function resolvePackage(specifier: string): string;
export function importMetaFor(fileUrl: string): { url: string; filename: string; dirname: string; resolve(specifier: string): string };
export function stopEsbuildWhenIdle(on: boolean): void;
export function bundleSource(entryFile: string): Promise<string>;
export function bundleUrl(entryFile: string): Promise<URL>;
