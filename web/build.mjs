// Builds the workbench into LOCKSTEP_WEB_OUT (default dist/): one JavaScript bundle and one style
// sheet, both named by a hash of their content (served with a year-long cache), and index.html
// referencing them. No inline script or style anywhere, so the pages run under
// `default-src 'self'` without 'unsafe-inline'. crates/web/build.rs runs this and embeds the output.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.LOCKSTEP_WEB_OUT || join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src/main.ts'), style: join(here, 'src/style.css') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari17'],
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(out, p).split('\\').join('/'));
const script = outputs.find((p) => p.endsWith('.js'));
const style = outputs.find((p) => p.endsWith('.css'));
if (!script || !style) throw new Error(`esbuild produced ${outputs.join(', ')}`);

// The icon, named by its hash like the bundles.
const icon = readFileSync(join(here, 'src/icon.svg'));
const iconName = `assets/icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
copyFileSync(join(here, 'src/icon.svg'), join(out, iconName));

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lockstep</title>
<link rel="icon" href="/${iconName}" type="image/svg+xml">
<link rel="stylesheet" href="/${style}">
<script type="module" src="/${script}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<div id="app"><noscript>The Lockstep workbench needs JavaScript.</noscript></div>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);
console.log(`built ${[script, style, iconName].map((p) => basename(p)).join(', ')} into ${out}`);
