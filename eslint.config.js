// ESLint: typescript-eslint's recommended rules, plus the type-aware ones that catch a
// promise nobody awaits or one passed where a plain callback is expected — in a server that
// is a lost error or a request answered before its work is done.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "test/fixtures/", "coverage/", ".runtime/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore names what is left out on purpose (a rest sibling, an unused parameter).
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
      // A service wired to another made after it (`let b; const a = make({ use: () => b }); b = …`).
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // Input checks match control characters on purpose (object keys, redirect targets, XML 1.0).
      "no-control-regex": "off",
    },
  },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
    },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ["src/web-client/**/*.ts"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
