/** The e2e tests' view of the shared harness (scripts/lib/harness.ts), which bench/ uses too. */
export * from "../../scripts/lib/harness.ts";
