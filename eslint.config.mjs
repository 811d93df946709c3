// ESLint (typescript-eslint's recommended rules) for the TypeScript sources and the tests;
// formatting is Prettier's (.prettierrc.json), so ESLint's style rules are off.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'vendor/**', 'node_modules/**', '**/*.generated.ts', 'nodes/**/*.js', 'docs/**', 'models/**', '.node-red/**', 'resources/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Node-RED's node constructors are plain functions called with the node as `this`; the glue
      // names it `node` for the callbacks, the pattern of Node-RED's own core nodes.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      // Lazy require() keeps optional or heavy modules (onnxruntime, ffmpeg-static, benchmarks) off
      // the paths that do not need them; each one says why where it stands.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Dashboard 2.0 widgets' browser code (scripts/build-widgets.js bundles it): plain scripts that
    // set module.exports, with the dashboard's Vue as a global.
    files: ['ui/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, Vue: 'readonly', module: 'writable' } },
    rules: {
      // Vue's option API: callbacks keep the component as `self`. ui/shared/ defines helpers the widget scripts use.
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^(visionWidget|_)', argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.js', 'scripts/**/*.js', 'bin/**/*.js', 'flows/**/*.js'],
    // Browser tests hand functions to the page (page.evaluate), where the editor's RED and jQuery live.
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha, ...globals.browser, RED: 'readonly', $: 'readonly' } },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A CommonJS file's own `const run` or `const WebSocket = require('ws')` shadows a global on purpose.
      'no-redeclare': 'off',
    },
  },
);
