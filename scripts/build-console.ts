/**
 * Builds the token console (services/console) into dist/console: index.html plus content-hashed
 * JS and CSS under assets/, bundled and minified by esbuild. No CDN and no external fonts: the
 * authority serves everything from /console/. Prints the gzipped size of the JavaScript, which has
 * a budget of 150 KB.
 *
 *   npx tsx scripts/build-console.ts [--out dir]
 */
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_SRC = join(ROOT, 'services/console')
export const CONSOLE_OUT = join(ROOT, 'dist/console')
/** gzipped JavaScript budget (bytes) */
export const JS_BUDGET = 150 * 1024

export interface ConsoleBuild {
  outdir: string
  js: string
  css: string
  jsBytes: number
  jsGzipBytes: number
  cssGzipBytes: number
}

export async function buildConsole(outdir = CONSOLE_OUT): Promise<ConsoleBuild> {
  const assets = join(outdir, 'assets')
  await mkdir(assets, { recursive: true })
  const result = await build({
    entryPoints: [join(CONSOLE_SRC, 'src/main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(CONSOLE_SRC, 'tsconfig.json'),
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning'
  })
  const outputs = Object.keys(result.metafile.outputs).map((p) => resolve(ROOT, p))
  const jsFile = outputs.find((p) => p.endsWith('.js'))
  const cssFile = outputs.find((p) => p.endsWith('.css'))
  if (!jsFile || !cssFile) throw new Error(`esbuild wrote no JS or CSS: ${outputs.join(', ')}`)
  const js = await readFile(jsFile)
  const css = await readFile(cssFile)
  const url = (file: string) => `/console/assets/${relative(assets, file)}`
  const html = (await readFile(join(CONSOLE_SRC, 'index.html'), 'utf8'))
    .replace('%JS%', url(jsFile))
    .replace('%CSS%', url(cssFile))
  await copyFile(join(CONSOLE_SRC, 'favicon.svg'), join(outdir, 'favicon.svg'))
  // index.html last and atomically: a server (or a parallel build) never sees it name missing assets
  const tmp = join(outdir, `.index.html.${process.pid}`)
  await writeFile(tmp, html)
  await rename(tmp, join(outdir, 'index.html'))
  // earlier builds' assets go once the new index.html names the new ones
  const keep = new Set([jsFile, cssFile].map((f) => relative(assets, f)))
  for (const f of await readdir(assets)) if (!keep.has(f)) await rm(join(assets, f), { force: true })
  return {
    outdir,
    js: url(jsFile),
    css: url(cssFile),
    jsBytes: js.length,
    jsGzipBytes: gzipSync(js, { level: 9 }).length,
    cssGzipBytes: gzipSync(css, { level: 9 }).length
  }
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out')
  const out = i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : CONSOLE_OUT
  const b = await buildConsole(out)
  console.log(
    `console built in ${relative(process.cwd(), b.outdir) || '.'}: JS ${kb(b.jsBytes)} (${kb(b.jsGzipBytes)} gzipped, budget ${kb(JS_BUDGET)}), CSS ${kb(b.cssGzipBytes)} gzipped`
  )
  if (b.jsGzipBytes > JS_BUDGET) {
    console.error(`the console's JavaScript is over its budget: ${kb(b.jsGzipBytes)} gzipped > ${kb(JS_BUDGET)}`)
    process.exit(1)
  }
}
