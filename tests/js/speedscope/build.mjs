import * as esbuild from 'esbuild'
import stub from './stub-demangle.mjs'
await esbuild.build({
  entryPoints: ['entry.ts'], bundle: true, platform: 'node', format: 'cjs', target: 'node18',
  outfile: 'speedscope_importers.js', plugins: [stub], legalComments: 'inline',
})
