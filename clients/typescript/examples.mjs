// Writes generated/examples.ts: the repository's example bodies, typed with the generated
// schemas, so tsc checks every example against the OpenAPI document.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const load = (name) => JSON.stringify(JSON.parse(readFileSync(`../../docs/${name}`, "utf8")), null, 2);
mkdirSync("generated", { recursive: true });
writeFileSync(
  "generated/examples.ts",
  `import type { components } from "./api";

export const referralExample: components["schemas"]["ReferralIn"] = ${load("example-referral.json")};

export const selfRegistrationExample: components["schemas"]["SelfRegistrationIn"] = ${load("example-self-registration.json")};
`,
);
