// build.mjs - builds the dashboard into dist/: src/main.js and what it
// imports (CSS included) bundled and minified by esbuild into
// dist/assets/<name>-<hash>.{js,css}, and dist/index.html naming them.
// Deterministic: the same sources give the same files (no time, no paths
// in the output), so a rebuild on another machine changes nothing in git.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
rmSync(join(dist, 'assets'), { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
const r = await build({
  entryPoints: [join(here, 'src/main.js')],
  bundle: true, minify: true, format: 'esm', target: ['es2022'],
  outdir: join(dist, 'assets'), entryNames: 'app-[hash]', metafile: true,
  legalComments: 'none', sourcemap: false, logLevel: 'warning',
});
const outs = Object.keys(r.metafile.outputs).map((p) => basename(p));
const js = outs.find((f) => f.endsWith('.js'));
const css = outs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild made ${outs.join(', ')}`);
const html = readFileSync(join(here, 'src/index.html'), 'utf8').replace('{{JS}}', js).replace('{{CSS}}', css);
writeFileSync(join(dist, 'index.html'), html);
console.log(`dashboard: dist/assets/${js} dist/assets/${css}`);
