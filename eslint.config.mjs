import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    // `import { z }` takes zod's namespace object with every locale and converter in it (750 KB the
    // CLI's bundle loaded at each start); `import * as z` lets the bundler keep what is used (170 KB).
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportDeclaration[source.value='zod'][importKind='value'] > ImportSpecifier[imported.name='z'][importKind!='type']",
          message: 'import * as z from "zod": the named import can\'t be tree-shaken',
        },
      ],
    },
  },
  {
    // CommonJS on purpose (bin/indexdeck.cjs says why): require is how it imports.
    files: ["**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    ignores: [
      ".next/**",
      "node_modules/**",
      ".indexdeck/**",
      ".indexdeck-test/**",
      ".indexdeck-e2e/**",
      "next-env.d.ts",
      "test-results/**",
      "playwright-report/**",
      "dist/**",
    ],
  },
];

export default config;
