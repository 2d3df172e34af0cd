// ESLint flat config: typescript-eslint's type-aware recommended rules over every TypeScript file; Prettier owns
// formatting (no stylistic rules here).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'models/', 'data/', 'coverage/', '**/*.onnx'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused names are errors unless they say they are unused (a leading underscore).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Promises must be awaited, returned or explicitly voided: a dropped rejection can end the process.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function without await is how a callback keeps a Promise-returning signature: not a bug here.
      '@typescript-eslint/require-await': 'off',
      // `let x;` assigned once later but read by a closure declared before (signal handlers): not a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
