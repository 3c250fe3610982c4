// Types for layers.mjs (plain JS: it runs without tsx).
export declare const ROOT_FILES: string
export declare const LAYERS: readonly (readonly string[])[]
export declare function relativeImports(fileName: string, text: string): string[]
export declare function folderOf(path: string): string
export declare function readSources(srcDir: string): Map<string, string>
export declare function checkLayers(
  files: ReadonlyMap<string, string>,
  layers?: readonly (readonly string[])[],
): { problems: string[]; edges: Map<string, string[]>; cycles: string[][] }
