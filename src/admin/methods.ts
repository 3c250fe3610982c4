/**
 * The admin namespace: op-node's names for the sequencer (`admin_sequencerActive`,
 * `admin_stopSequencer`, `admin_startSequencer`, `admin_setLogLevel`) and geth's for peers and identity.
 * Every method acts through `AdminControls`; errors are JSON-RPC errors with a message that says what
 * to do.
 */
import type { Hex } from '../primitives/state-diff.ts'
import { expectParams, invalidInput, invalidParams, type MethodRegistry, RpcError, RpcErrorCode } from '../rpc/index.ts'
import type { AdminControls, AdminLogLevel, SequencerControl } from './interface.ts'

const LOG_LEVELS: readonly AdminLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

/** -32000 with a message naming the state the node is in: what op-node answers with its own wording. */
function refused(message: string): RpcError {
  return invalidInput(message)
}

function sequencerOf(controls: AdminControls): SequencerControl {
  if (controls.sequencer === undefined)
    throw refused('not a sequencer: this node does not produce blocks (admin_*Sequencer apply to --role=sequencer)')
  return controls.sequencer
}

function stringParam(params: unknown[], index: number, what: string): string {
  const value = params[index]
  if (typeof value !== 'string') throw invalidParams(`invalid argument ${index}: expected ${what}`)
  return value
}

export function registerAdminMethods(registry: MethodRegistry, controls: AdminControls): void {
  registry.registerAll({
    admin_sequencerActive: (params) => {
      expectParams(params, 0, 0)
      return sequencerOf(controls).active()
    },
    admin_stopSequencer: async (params) => {
      expectParams(params, 0, 0)
      const sequencer = sequencerOf(controls)
      if (!sequencer.active()) throw refused('sequencer not running: it is already stopped')
      return sequencer.stop()
    },
    admin_startSequencer: (params) => {
      expectParams(params, 1, 1)
      const hash = stringParam(params, 0, 'the 32-byte head hash admin_stopSequencer returned').toLowerCase() as Hex
      if (!/^0x[0-9a-f]{64}$/.test(hash)) throw invalidParams('invalid argument 0: expected a 0x-prefixed 32-byte hash')
      const sequencer = sequencerOf(controls)
      if (sequencer.active()) throw refused('sequencer already running')
      const head = sequencer.headHash()
      // op-node's rule: the operator names the head it expects to build on, so a start never silently
      // builds on a block it did not see (another sequencer's, or one a restart recovered).
      if (hash !== head.toLowerCase())
        throw new RpcError(RpcErrorCode.InvalidParams, `block hash ${hash} is not the head ${head}: start on the current head`, {
          head,
        })
      try {
        sequencer.start()
      } catch (err) {
        throw refused(`cannot start the sequencer: ${err instanceof Error ? err.message : String(err)}`)
      }
      return null
    },
    admin_setLogLevel: (params) => {
      expectParams(params, 1, 1)
      const level = stringParam(params, 0, `a log level (${LOG_LEVELS.join(', ')})`)
      if (!(LOG_LEVELS as readonly string[]).includes(level))
        throw invalidParams(`invalid argument 0: ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(', ')}`)
      controls.logLevel.setLevel(level as AdminLogLevel)
      return null
    },
    admin_peers: (params) => {
      expectParams(params, 0, 0)
      return controls.peers?.peers() ?? []
    },
    admin_addPeer: async (params) => {
      expectParams(params, 1, 1)
      const addr = stringParam(params, 0, 'a multiaddr with /p2p/<peer id>')
      if (controls.peers === undefined) throw refused('this node runs no p2p host')
      try {
        await controls.peers.addPeer(addr)
      } catch (err) {
        throw refused(`cannot add peer: ${err instanceof Error ? err.message : String(err)}`)
      }
      return true
    },
    admin_removePeer: async (params) => {
      expectParams(params, 1, 1)
      const peer = stringParam(params, 0, 'a peer id')
      if (controls.peers === undefined) throw refused('this node runs no p2p host')
      try {
        return await controls.peers.removePeer(peer)
      } catch (err) {
        throw refused(`cannot remove peer: ${err instanceof Error ? err.message : String(err)}`)
      }
    },
    admin_nodeInfo: (params) => {
      expectParams(params, 0, 0)
      return controls.nodeInfo()
    },
  })
}
