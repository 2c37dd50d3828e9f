/** Something the user should know that does not stop the work. */
export interface Warning {
  /** Config path the warning is about, when there is one. */
  path?: string;
  message: string;
}
