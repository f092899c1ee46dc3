// ESLint (flat config): typescript-eslint's recommended rules with type information for src/;
// formatting is Prettier's job (eslint-config-prettier turns the overlapping rules off).
// It also keeps the house as drawn in shared/STYLE.md: the imports that must never exist (below),
// and file sizes. Import cycles are madge's to find (`npm run lint:cycles`, part of `npm run lint`):
// it follows type-only and dynamic imports too, which is where our cycles hid.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const DRIVERS = [
  { name: 'better-sqlite3', message: 'Drivers belong to the storage adapters; talk to the TaskStore contract.' },
  { name: 'pg', message: 'Drivers belong to the storage adapters; talk to the TaskStore contract.' },
];
const ADAPTERS_AND_DRIVERS = {
  paths: DRIVERS,
  patterns: [
    {
      regex: '(^|/)storage/(sqlite|postgres)(/|$)',
      message: 'Only storage/open-store.ts picks an adapter; everything else talks to the TaskStore contract.',
    },
    { regex: '^(better-sqlite3|pg)/', message: 'Drivers belong to the storage adapters.' },
  ],
};

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['packages/*/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      // Split a file long before it gets here (STYLE.md §11).
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['**/test/**/*.ts', 'bench/**/*.ts', '**/scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['packages/*/test/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 700, skipBlankLines: true, skipComments: true }] },
  },
  // ---- arrows that must never exist ------------------------------------------------------------
  {
    // The domain imports nothing from outside domain/: no I/O, no framework, no other layer. The one
    // exception is the SDK's vocabulary, a module that itself imports nothing.
    files: ['packages/server/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./[^/]+$|@tasklane/sdk/vocabulary$)',
              message: 'domain/ imports only from domain/ (and @tasklane/sdk/vocabulary).',
            },
          ],
        },
      ],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: 'domain/ loads nothing.' }],
    },
  },
  {
    // Use cases talk to the domain and the TaskStore contract, never to a driver or an adapter.
    files: ['packages/server/src/service/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', ADAPTERS_AND_DRIVERS] },
  },
  {
    // Transport: routes call the services; storage is reached through them (or the contract's types).
    files: ['packages/server/src/http/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', ADAPTERS_AND_DRIVERS] },
  },
  {
    // The SDK runs without the server: nothing of the server package, by name or by path.
    files: ['packages/sdk/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^tasklane(/|$)', message: 'The SDK has no server dependencies.' },
            { regex: '(^|/)server/', message: 'The SDK has no server dependencies.' },
          ],
        },
      ],
    },
  },
  {
    // The vocabulary the server's domain imports: it must stay a leaf.
    files: ['packages/sdk/src/vocabulary.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '.', message: 'The vocabulary imports nothing: the server domain depends on it.' }] },
      ],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: 'The vocabulary loads nothing.' }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
