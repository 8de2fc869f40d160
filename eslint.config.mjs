// `npm run lint` (part of `npm test`, with `prettier --check`): ESLint's and typescript-eslint's
// recommended rules, without type information (the type checker is `npm run typecheck`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'lib/', 'data/', 'test-results/', 'custom-elements.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // `_` marks a parameter that a signature needs and the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `let { a, b } = …` where only some are reassigned stays one statement.
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    // Declarations of untyped libraries: names declared for their types, `any` where the library says nothing.
    files: ['**/*.d.ts'],
    rules: { '@typescript-eslint/no-unused-vars': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Widgets run in a sandbox where the player's api is a global, as Cinema8 documents it.
    files: ['test/fixtures/**/*.js', 'test/socket/cinema8-snippets.js'],
    languageOptions: { globals: { c8PlayerApi: 'readonly' } },
  },
);
