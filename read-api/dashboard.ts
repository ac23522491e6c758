/**
 * The web dashboard (dashboard/: index.html, main.ts, style.css) served by the read API: GET /
 * (the page), GET /dashboard/app.js (main.ts and uPlot bundled and minified by esbuild when the
 * plugin is registered, in memory: nothing is written, so a fresh clone needs no build step) and
 * GET /dashboard/app.css (the page's style and uPlot's). Every answer carries a strong ETag
 * (sha256 of the bytes) and `Cache-Control: no-cache`, so a browser revalidates and gets 304.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { FastifyInstance } from 'fastify';

const DASHBOARD_DIR = join(import.meta.dirname, '..', 'dashboard');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const asset = (body: Buffer, type: string): Asset => ({ body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` });

/**
 * Bundles the dashboard: `{ page, script, style }` with their bytes, content types and ETags.
 * @throws the esbuild error when dashboard/main.ts does not build
 */
export async function bundleDashboard(): Promise<{ page: Asset; script: Asset; style: Asset }> {
  const out = await build({ entryPoints: [join(DASHBOARD_DIR, 'main.ts')], bundle: true, minify: true, format: 'esm', target: 'es2022', write: false, logLevel: 'silent' });
  const uplotCss = readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'));
  return {
    page: asset(readFileSync(join(DASHBOARD_DIR, 'index.html')), 'text/html; charset=utf-8'),
    script: asset(Buffer.from(out.outputFiles[0]!.contents), 'text/javascript; charset=utf-8'),
    style: asset(Buffer.concat([uplotCss, Buffer.from('\n'), readFileSync(join(DASHBOARD_DIR, 'style.css'))]), 'text/css; charset=utf-8'),
  };
}

/** Fastify plugin: the dashboard's three routes (see the module comment). */
export async function dashboard(app: FastifyInstance): Promise<void> {
  const assets = await bundleDashboard();
  const serve = (a: Asset) => async (req: { headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) => {
    reply.header('etag', a.etag).header('cache-control', 'no-cache');
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  const hidden = { schema: { hide: true } }; // not part of the API's OpenAPI document
  app.get('/', hidden, serve(assets.page));
  app.get('/dashboard/app.js', hidden, serve(assets.script));
  app.get('/dashboard/app.css', hidden, serve(assets.style));
}
