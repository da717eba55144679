import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
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
