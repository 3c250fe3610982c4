import assert from 'node:assert/strict'
import { RpcError } from '../../src/rpc/errors.ts'

/** The `RpcError` `fn` throws synchronously (a parameter parser's, a limit's); fails the test on anything else. */
export function rpcError(fn: () => unknown): RpcError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof RpcError, `expected an RpcError, got ${String(error)}`)
    return error
  }
  assert.fail('expected an error')
}
