// One lint configuration for every workspace; each package runs `eslint src` from its folder.
import { readdirSync } from "node:fs";
import path from "node:path";
import js from "@eslint/js";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import { importX } from "eslint-plugin-import-x";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

// Paths in the import rules are absolute: eslint runs from each package's folder, not this one.
const root = import.meta.dirname;
const serverSrc = path.join(root, "server/src");

/**
 * The folders of server/src that are not features (STYLE §1, §11): the two edges a request comes
 * in through, and the Redis wiring, which builds AppDeps as main.ts does. Every other folder is a
 * feature, including any added later.
 */
const NOT_FEATURES = new Set(["http", "realtime", "redis"]);
const FEATURES = readdirSync(serverSrc, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !NOT_FEATURES.has(entry.name))
  .map((entry) => entry.name)
  .sort();

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.config.ts", "**/*.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "error",
    },
  },
  {
    files: ["web/src/**/*.{ts,tsx}", "approver/src/**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: { ...reactHooks.configs.recommended.rules },
  },
  {
    // Imports flow one way. no-cycle follows value imports only (a type-only import is erased at
    // run time); the folder rules below see type imports too.
    files: ["server/src/**/*.ts", "shared/src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      // Without these, import-x reads only .js files and so never follows an import into a .ts.
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/external-module-folders": ["node_modules", "node_modules/@types"],
      // Our imports name the emitted .js file; only the TypeScript resolver maps that to the .ts.
      "import-x/resolver-next": [
        // The root tsconfig, whose references name every package's own.
        createTypeScriptImportResolver({ project: path.join(root, "tsconfig.json") }),
      ],
    },
    rules: {
      "import-x/no-cycle": "error",
    },
  },
  {
    files: ["server/src/**/*.ts"],
    rules: {
      "import-x/no-restricted-paths": [
        "error",
        {
          basePath: serverSrc,
          zones: [
            {
              target: FEATURES,
              from: ["realtime", "app.ts", "main.ts"],
              message:
                "A feature never imports realtime/, app.ts or main.ts (STYLE §11): it announces a change through " +
                "an event or interface it owns, and app.ts wires the subscriber.",
            },
            {
              // Routes files are the HTTP edge of their feature; nothing else in it knows about HTTP.
              target: `{${FEATURES.join(",")}}/**/!(*.routes).ts`,
              from: ["http"],
              message:
                "Only a feature's *.routes.ts may use http/ (STYLE §11): services and stores know nothing of HTTP.",
            },
          ],
        },
      ],
    },
  },
);
