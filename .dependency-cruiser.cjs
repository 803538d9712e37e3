// Layer rules: imports point down the list in docs/architecture.md, never up, and never in
// a cycle. `npm test` runs this check.
const layers = ['util', 'crypto', 'codec', 'ledger', 'ordering', 'execution', 'contracts', 'sdk', 'privacy', 'dataspace', 'node', 'api', 'cli'];

const upward = layers.map((layer, i) => ({
  name: `${layer}-imports-down-only`,
  comment: `src/${layer} may only import layers below it: ${layers.slice(0, i).join(', ') || '(none)'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${layers.slice(i + 1).join('|') || '__none__'})/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'import cycles are not allowed', from: {}, to: { circular: true } },
    ...upward,
    {
      name: 'src-does-not-import-bench-or-tests',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/bench\\.ts$' },
      to: { path: '^(bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.test\\.ts$' },
  },
};
