/**
 * What a node serves, for clients and tests: geth's `rpc_modules` (`{ eth: '1.0', … }`, one entry per
 * namespace) and `rpc_methods` (Substrate's `{ methods: [...] }`: every method name). Both read the
 * registry when called, so they list whatever was registered before or after them.
 */
import { expectParams } from './params.ts'
import type { MethodRegistry } from './registry.ts'

export function registerIntrospectionMethods(registry: MethodRegistry): void {
  registry.registerAll({
    rpc_modules: (params) => {
      expectParams(params, 0)
      const modules: Record<string, string> = {}
      for (const name of registry.names()) {
        const separator = name.indexOf('_')
        if (separator > 0) modules[name.slice(0, separator)] = '1.0'
      }
      return modules
    },
    rpc_methods: (params) => {
      expectParams(params, 0)
      return { methods: registry.names() }
    },
  })
}
