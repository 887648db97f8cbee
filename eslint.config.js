// ESLint 9 flat config for the whole workspace: one config, every package.
// TypeScript gets typescript-eslint's strictTypeChecked rules through the project service (each
// package's tsconfig.json); plain JavaScript (scripts, examples, this file) gets the untyped rules.
// Every rule turned off or loosened is turned off here, with its reason.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TS = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS = ['**/*.js', '**/*.mjs', '**/*.cjs'];
const TESTS = ['packages/*/test/**/*.ts'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.turbo/**',
      '**/coverage/**',
      'reports/**',
      'docs/api/**',
      // The browser test's static page (HTML only today); anything bundled there is not ours.
      'packages/browser/static/**',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Compiled by the integration test against the installed tarballs: in no package's tsconfig.
          allowDefaultProject: ['packages/integration/fixtures/installed/*.ts'],
          defaultProject: 'tsconfig.base.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // The browser page is built by its own tsconfig (DOM lib, the `browser` export condition), which
    // the project service does not find (it looks for tsconfig.json): name it.
    files: ['packages/browser/page/**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: false,
        project: ['packages/browser/tsconfig.page.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: TS,
    rules: {
      // Error messages interpolate sizes, positions and counts; a number's string form is well defined.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `() => ring.submit(x)` in t.throws, teardowns, timers and callbacks is the idiom; braces around
      // a void call add lines, not clarity. Returning a void call from a block body is still reported.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // noUncheckedIndexedAccess types every typed-array and array read `T | undefined`; the hot paths
      // read within bounds they checked, and `!` is the zero-cost way to say so (`?? 0` is a branch).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `_`-prefixed parameters and bindings are unused on purpose (tsc's noUnusedParameters agrees).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: TESTS,
    rules: {
      // ava's t.throws() is typed non-nullable but returns undefined when its assertion fails: the `?.`
      // after it keeps that first failure readable instead of a TypeError.
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    // A type-only fixture compiled with noUnusedLocals: `void x` marks a binding checked for its type as used.
    files: ['packages/integration/fixtures/installed/*.ts'],
    rules: { '@typescript-eslint/no-meaningless-void-operator': 'off' },
  },
  {
    // Plain JavaScript: no type information to check against.
    files: JS,
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: JS,
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The browser example runs in a page and its workers.
    files: ['examples/browser/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
