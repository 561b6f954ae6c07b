// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The import direction of docs/ARCHITECTURE.md: geo ← engine ← dispatch; ingest, api and workers sit at the edge.
 * Each entry lists the top-level folders a module must not import. engine/main.ts and its helpers in
 * engine/composition/ are the composition root, the only product files allowed to wire the edge adapters together.
 */
const forbidden = {
  geo: ['engine', 'dispatch', 'ingest', 'api', 'workers', 'bench'],
  engine: ['dispatch', 'ingest', 'api', 'workers', 'bench'],
  dispatch: ['ingest', 'api', 'workers', 'bench'],
  workers: ['ingest', 'api', 'bench'],
  ingest: ['api', 'dispatch', 'workers', 'bench'],
  api: ['ingest', 'workers', 'bench'],
  // Browser code talks to the engine over HTTP and WebSocket only; it shares no module with it.
  web: ['geo', 'engine', 'dispatch', 'ingest', 'api', 'workers', 'bench'],
};

const importDirection = Object.entries(forbidden).map(([module, banned]) => ({
  files: [`${module}/**/*.ts`],
  ignores: ['engine/main.ts', 'engine/composition/**'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: banned.map((name) => ({
          group: [`**/${name}/*`, `**/${name}/**`],
          message: `${module}/ must not import ${name}/ (see docs/ARCHITECTURE.md, import direction).`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.data/**', 'artifacts/**', 'api/static/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  ...importDirection,
);
