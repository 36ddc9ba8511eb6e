// esbuild plugin: leave speedscope's C++ demangler (a 97 KB wasm, used only by
// Profile.demangle(), which the importers never call) out of the bundle.
export default {
  name: 'no-demangle',
  setup(build) {
    build.onResolve({filter: /^\.\/demangle$/}, () => ({path: 'demangle', namespace: 'stub'}))
    build.onLoad({filter: /.*/, namespace: 'stub'}, () => ({
      contents: 'export async function loadDemangling() { throw new Error("not bundled") }',
      loader: 'js',
    }))
  },
}
