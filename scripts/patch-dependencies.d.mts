// Types for patch-dependencies.mjs (plain JS: it runs at install time, before tsx exists).
export interface DependencyPatch {
  /** Path under node_modules. */
  file: string
  /** The exact snippet replaced, and its replacement. */
  before: string
  after: string
  /** What earlier versions of the patch left in place of `before`: upgraded to `after` too. */
  previous?: readonly string[]
}
export declare const PATCHES: readonly DependencyPatch[]
export declare function patchDependencies(options?: {
  check?: boolean
  nodeModules?: string
  patches?: readonly DependencyPatch[]
}): string[]
export declare function patchDependenciesOrExit(): void
