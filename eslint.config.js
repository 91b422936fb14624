// ESLint: JavaScript's and typescript-eslint's recommended rules over the whole tree (formatting
// is Prettier's, not ESLint's). `npm run lint` runs both; `npm test` runs it first.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/dist/**', 'playground-dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly', process: 'readonly', globalThis: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // walking a chain of scopes or contexts outward starts from `this`
      '@typescript-eslint/no-this-alias': 'off',
      // a printer declared before the spelling that closes over it, assigned once after
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
);
