export {importSpeedscopeProfiles} from './src/lib/file-format'
export {importFromBGFlameGraph} from './src/import/bg-flamegraph'
