import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

/** One file of the bundle, served under `/assets/<name>`. */
export interface WebAsset {
  name: string;
  contentType: string;
  body: string;
}

/** The browser pages' bundle: every asset by name, and each page's script and style names. */
export interface WebBundle {
  assets: ReadonlyMap<string, WebAsset>;
  /** Per entry (`console`, `patient`, `doctor`): its script and, when it imports CSS, its style sheet. */
  entries: Readonly<Record<string, { script: string; style?: string }>>;
  /** Name of MapLibre's worker script (a module worker the map starts; it is shipped prebuilt by the package). */
  mapWorker: string;
  /** Each page's HTML template by page name (web/pages/<name>.html). */
  templates: Readonly<Record<string, string>>;
  /** Milliseconds the bundling took. */
  builtInMs: number;
}

/** Where the browser sources live: web/ at the repository root. */
export const WEB_ROOT = path.resolve(import.meta.dirname, '..', 'web');

/** The pages' entry points, by the name their bundle gets. */
export const WEB_ENTRIES = {
  console: 'console/main.ts',
  patient: 'patient/main.ts',
  doctor: 'doctor/main.ts',
} as const;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Bundles web/ with esbuild in memory: one ES module per page (code they share, MapLibre above all, split into chunks
 * that every page reuses), their CSS, and MapLibre's worker script copied from the package. Names carry a content
 * hash, so assets can be cached for good and a new bundle never mixes with an old one.
 *
 * @throws Error when a source does not compile (esbuild's message names the file and line).
 */
export async function buildWebBundle(root: string = WEB_ROOT): Promise<WebBundle> {
  const started = performance.now();
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(
      Object.entries(WEB_ENTRIES).map(([name, entry]) => [name, path.join(root, entry)]),
    ),
    bundle: true,
    format: 'esm',
    splitting: true,
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    write: false,
    outdir: path.join(root, 'out'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const assets = new Map<string, WebAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    assets.set(name, {
      name,
      contentType: CONTENT_TYPES[path.extname(name)] ?? 'text/plain; charset=utf-8',
      body: file.text,
    });
  }
  const entries: Record<string, { script: string; style?: string }> = {};
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const name = Object.entries(WEB_ENTRIES).find(([, entry]) =>
      meta.entryPoint!.endsWith(entry.replace(/\\/g, '/')),
    )?.[0];
    if (!name) continue;
    entries[name] = {
      script: path.basename(output),
      ...(meta.cssBundle ? { style: path.basename(meta.cssBundle) } : {}),
    };
  }
  const require = createRequire(import.meta.url);
  const workerSource = await readFile(
    require.resolve('maplibre-gl/dist/maplibre-gl-worker.mjs', { paths: [root] }),
    'utf8',
  );
  const mapWorker = `maplibre-gl-worker-${createHash('sha256').update(workerSource).digest('hex').slice(0, 8)}.mjs`;
  assets.set(mapWorker, { name: mapWorker, contentType: CONTENT_TYPES['.mjs']!, body: workerSource });
  const templates: Record<string, string> = {};
  for (const page of ['console', 'patient', 'doctor', 'index']) {
    templates[page] = await readFile(path.join(root, 'pages', `${page}.html`), 'utf8');
  }
  return { assets, entries, mapWorker, templates, builtInMs: Math.round(performance.now() - started) };
}
