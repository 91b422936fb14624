// A Vite plugin for the pages built from this repository (this example, the playground): a Node
// built-in reaching the browser bundle would fail at run time there, so it fails the build.
import { builtinModules } from 'node:module';
import type { Plugin } from 'vite';

export function noNodeBuiltins(): Plugin {
  return {
    name: 'lossc-no-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source.startsWith('node:') || builtinModules.includes(source))
        throw new Error(`${source} imported by ${importer ?? '?'} would reach the browser bundle`);
      return null;
    },
  };
}
