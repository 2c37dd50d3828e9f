/** The registries an e2e run starts (test/infra/registries.ts), as the suites get them. */
export interface TestRegistries {
  /** An open registry: `127.0.0.1:<port>`. */
  open: string;
  /** A registry with htpasswd (basic) auth. */
  auth: string;
  user: string;
  password: string;
}
