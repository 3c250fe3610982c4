/**
 * Hostile and broken input against a real node: malformed JSON-RPC, limits (body, batch, WS
 * connections and subscriptions), bad params, invalid transactions — each answered with the exact
 * error code/message, and the node still healthy afterwards. Plus the CLI's config errors (exit 2,
 * one precise line on stderr).
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { concat, fromRlp, hexToBigInt, keccak256, numberToHex, parseEther, toRlp, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount, sign, type PrivateKeyAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  WsRpc,
  postRaw,
  rpc,
  rpcError,
  rpcRaw,
  runCli,
  startNode,
  waitFor,
  type NodeHandle,
  type RpcResponse,
} from '../helpers/node-process.ts'

let node: NodeHandle
let limited: NodeHandle
let lastHead = -1n

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
const ADDRESS = privateKeyToAccount(DEV_KEYS[0]!).address

/** The node still answers eth_blockNumber with a sane, non-decreasing number that matches the latest block. */
async function assertHealthy(target: NodeHandle = node): Promise<void> {
  assert.equal(target.exited, false, `the node process is alive (stderr: ${target.logs().stderr.slice(-1000)})`)
  const number = BigInt(await rpc<Hex>(target.rpcUrl, 'eth_blockNumber'))
  const latest = await rpc<{ number: Hex }>(target.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
  assert.ok(BigInt(latest.number) >= number, 'latest block is at least eth_blockNumber')
  if (target === node) {
    assert.ok(number >= lastHead, `eth_blockNumber went backwards: ${number} < ${lastHead}`)
    lastHead = number
  }
}

async function post(
  body: string | Uint8Array,
  target: NodeHandle = node,
): Promise<{ status: number; json: unknown; text: string }> {
  const { status, text } = await postRaw(target.rpcUrl, body)
  let json: unknown
  try {
    json = text === '' ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status, json, text }
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/**
 * A type-2 tx built by hand (viem's serializer refuses some of the invalid ones we need), signed
 * with `key` unless `signature` overrides r/s/yParity.
 */
async function rawEip1559(
  key: Hex,
  fields: { nonce: bigint; maxPriorityFeePerGas: bigint; maxFeePerGas: bigint; gas: bigint; to: Hex; value: bigint; data?: Hex },
  signature?: { r: bigint; s: bigint; yParity: number },
): Promise<Hex> {
  const q = (n: bigint): Hex => (n === 0n ? '0x' : numberToHex(n))
  const unsigned = [
    q(BigInt(DEV_CHAIN_ID)),
    q(fields.nonce),
    q(fields.maxPriorityFeePerGas),
    q(fields.maxFeePerGas),
    q(fields.gas),
    fields.to,
    q(fields.value),
    fields.data ?? '0x',
    [],
  ] as const
  let sig = signature
  if (sig === undefined) {
    const signed = await sign({ hash: keccak256(concat(['0x02', toRlp(unsigned as never)])), privateKey: key })
    sig = { r: hexToBigInt(signed.r), s: hexToBigInt(signed.s), yParity: signed.yParity ?? 0 }
  }
  return concat(['0x02', toRlp([...unsigned, q(BigInt(sig.yParity)), q(sig.r), q(sig.s)] as never)])
}

function signTx(account: PrivateKeyAccount, tx: Record<string, unknown>): Promise<Hex> {
  return account.signTransaction({
    chainId: DEV_CHAIN_ID,
    type: 'eip1559',
    to: '0x000000000000000000000000000000000000dEaD',
    value: 1n,
    gas: 21_000n,
    ...FEE,
    ...tx,
  } as never)
}

async function sendError(raw: Hex): Promise<{ code: number; message: string }> {
  return rpcError(node.rpcUrl, 'eth_sendRawTransaction', [raw])
}

// CLI runs are independent processes: start them while the nodes boot.
let cli: Record<string, Promise<Awaited<ReturnType<typeof runCli>>>> = {}

before(async () => {
  cli = {
    badPort: runCli(['--dev', '--rpc.port=abc']),
    unknownFlag: runCli(['--dev', '--bogus=1']),
    replica: runCli(['--dev', '--role=replica', '--rpc.port=0']),
    prover: runCli(['--dev', '--role=prover', '--rpc.port=0']),
    noGenesis: runCli(['--rpc.port=0']),
    portRange: runCli(['--dev', '--rpc.port=70000']),
    blockMs: runCli(['--dev', '--miniblock-ms=100', '--block-ms=50']),
  }
  // Keep them from being reported as unhandled before the tests await them.
  for (const p of Object.values(cli)) p.catch(() => undefined)
  ;[node, limited] = await Promise.all([
    // The connection flood below opens 200 sockets from 127.0.0.1: over the per-address default (100).
    startNode({ args: ['--rpc.ws-connections-per-ip=1000'] }),
    startNode({ args: ['--rpc.batch-limit=10', '--rpc.body-limit=4096', '--rpc.ws-connections=20', '--rpc.ws-subscriptions=5'] }),
  ])
  await assertHealthy()
})

after(async () => {
  await Promise.all([node?.stop(), limited?.stop()])
  await Promise.allSettled(Object.values(cli))
})

describe('malformed JSON-RPC', { timeout: 60_000 }, () => {
  test('invalid JSON → -32700 with id null; empty body too', async () => {
    for (const body of ['{"jsonrpc":"2.0","id":1,"method":', 'not json at all', '{"a":1}}', '\u0000\u0001']) {
      const { status, json } = await post(body)
      assert.equal(status, 200, `HTTP status for ${JSON.stringify(body)}`)
      const r = json as RpcResponse
      assert.equal(r.id, null)
      assert.equal(r.error?.code, -32700, `code for ${JSON.stringify(body)}`)
      assert.match(r.error?.message ?? '', /^parse error/)
    }
    const empty = await post('')
    assert.equal((empty.json as RpcResponse).error?.code, -32700)
    assert.equal((empty.json as RpcResponse).error?.message, 'parse error: empty body')
    await assertHealthy()
  })

  test('invalid request objects → -32600 (with the id when there is a usable one)', async () => {
    const cases: Array<[unknown, number | string | null, string]> = [
      [42, null, 'invalid request: expected a JSON object'],
      ['eth_chainId', null, 'invalid request: expected a JSON object'],
      [{ jsonrpc: '1.0', id: 7, method: 'eth_chainId' }, 7, 'invalid request: jsonrpc must be "2.0"'],
      [{ id: 8, method: 'eth_chainId' }, 8, 'invalid request: jsonrpc must be "2.0"'],
      [{ jsonrpc: '2.0', id: 9, method: 5 }, 9, 'invalid request: method must be a string'],
      [{ jsonrpc: '2.0', id: 'x', params: [] }, 'x', 'invalid request: method must be a string'],
      [
        { jsonrpc: '2.0', id: { nested: true }, method: 'eth_chainId' },
        null,
        'invalid request: id must be a string, number or null',
      ],
      [{ jsonrpc: '2.0', id: 10, method: 'eth_chainId', params: 'abc' }, 10, 'invalid request: params must be an array'],
    ]
    for (const [body, id, message] of cases) {
      const r = (await post(JSON.stringify(body))).json as RpcResponse
      assert.deepEqual(r, { jsonrpc: '2.0', id, error: { code: -32600, message } }, `answer to ${JSON.stringify(body)}`)
    }
    // By-name params are valid JSON-RPC but not Ethereum: -32602 for that call.
    const named = (await post(JSON.stringify({ jsonrpc: '2.0', id: 11, method: 'eth_getBalance', params: { address: ADDRESS } })))
      .json as RpcResponse
    assert.equal(named.error?.code, -32602)
    assert.equal(named.id, 11)
    const emptyBatch = (await post('[]')).json as RpcResponse
    assert.deepEqual(emptyBatch, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } })
    await assertHealthy()
  })

  test('batches: mixed valid/invalid items answered in order; notifications get no response', async () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      7,
      { jsonrpc: '2.0', method: 'eth_chainId' }, // notification
      { jsonrpc: '2.0', id: 'b', method: 'nope_nope' },
      { jsonrpc: '2.0', id: 3, method: 'eth_getBalance', params: ['0x12'] },
    ]
    const r = (await post(JSON.stringify(batch))).json as RpcResponse[]
    assert.ok(Array.isArray(r), 'a batch gets an array back')
    assert.equal(r.length, 4, 'no response for the notification')
    assert.deepEqual(r[0], { jsonrpc: '2.0', id: 1, result: '0x18c6' })
    assert.equal(r[1]!.error?.code, -32600)
    assert.equal(r[2]!.id, 'b')
    assert.equal(r[2]!.error?.code, -32601)
    assert.equal(r[3]!.id, 3)
    assert.equal(r[3]!.error?.code, -32602)
    const onlyNotifications = await post(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'eth_chainId' },
        { jsonrpc: '2.0', method: 'eth_blockNumber' },
      ]),
    )
    assert.equal(onlyNotifications.status, 200)
    assert.equal(onlyNotifications.text, '', 'notification-only batch: empty body')
    const single = await post(JSON.stringify({ jsonrpc: '2.0', method: 'eth_chainId' }))
    assert.equal(single.text, '', 'single notification: empty body')
    await assertHealthy()
  })

  test('oversized body (default limit 5 MiB) → HTTP 413 with a -32600 body', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_call',
      params: [{ to: ADDRESS, data: `0x${'ab'.repeat(2.7 * 1024 * 1024)}` }, 'latest'],
    })
    assert.ok(big.length > 5 * 1024 * 1024, 'body is over 5 MiB')
    let result: { status: number; json: unknown } | undefined
    try {
      result = await post(big)
    } catch (error) {
      // Acceptable transport behaviour: the server may close the socket while the client still writes.
      assert.match(String((error as Error).cause ?? error), /EPIPE|ECONNRESET|other side closed|socket/i)
    }
    if (result !== undefined) {
      assert.equal(result.status, 413)
      assert.deepEqual(result.json, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'request body too large (max 5242880 bytes)' },
      })
    }
    // Just under the limit is processed (and fails on its merits, not its size).
    const under = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'eth_call',
      params: [{ to: ADDRESS, data: `0x${'ab'.repeat(2 * 1024 * 1024)}` }, 'latest'],
    })
    const ok = await post(under)
    assert.equal(ok.status, 200)
    assert.equal((ok.json as RpcResponse).id, 2)
    await assertHealthy()
  })

  test('oversized batch (> 500) → one-element array with -32600 and the first id; 500 is fine', async () => {
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'eth_chainId' })
    const tooMany = (await post(JSON.stringify(Array.from({ length: 501 }, (_, i) => call(i + 100))))).json as RpcResponse[]
    assert.deepEqual(tooMany, [{ jsonrpc: '2.0', id: 100, error: { code: -32600, message: 'batch too large (max 500)' } }])
    const max = (await post(JSON.stringify(Array.from({ length: 500 }, (_, i) => call(i))))).json as RpcResponse[]
    assert.equal(max.length, 500)
    assert.ok(
      max.every((r, i) => r.id === i && r.result === '0x18c6'),
      'all 500 answered in order',
    )
    await assertHealthy()
  })

  test('limits are configurable: --rpc.batch-limit and --rpc.body-limit', async () => {
    const batch = (
      await post(
        JSON.stringify(Array.from({ length: 11 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))),
        limited,
      )
    ).json as RpcResponse[]
    assert.deepEqual(batch, [{ jsonrpc: '2.0', id: 0, error: { code: -32600, message: 'batch too large (max 10)' } }])
    const body = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(5000)] }), limited)
    assert.equal(body.status, 413)
    assert.equal((body.json as RpcResponse).error?.message, 'request body too large (max 4096 bytes)')
    await assertHealthy(limited)
  })

  test("unknown method → -32601 with geth's wording; eth_subscribe over HTTP → -32601 notifications not supported", async () => {
    const err = await rpcError(node.rpcUrl, 'eth_doesNotExist', [])
    assert.deepEqual(err, { code: -32601, message: 'the method eth_doesNotExist does not exist/is not available' })
    const huge = await rpcError(node.rpcUrl, 'x'.repeat(10_000), [])
    assert.equal(huge.code, -32601)
    const sub = await rpcError(node.rpcUrl, 'eth_subscribe', ['newHeads'])
    assert.deepEqual(sub, { code: -32601, message: 'notifications not supported' })
    await assertHealthy()
  })

  test('other HTTP verbs and paths', async () => {
    const get = await fetch(node.rpcUrl)
    assert.equal(get.status, 405)
    const put = await fetch(node.rpcUrl, { method: 'PUT', body: '{}' })
    assert.equal(put.status, 405)
    const missing = await fetch(`${node.rpcUrl}/nope`, { method: 'POST', body: '{}' })
    assert.equal(missing.status, 404)
    const health = await fetch(`${node.rpcUrl}/healthz`)
    assert.equal(health.status, 200)
    // Any content type is parsed as JSON (curl's default form type).
    const form = await postRaw(node.rpcUrl, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' }), {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.deepEqual(JSON.parse(form.text), { jsonrpc: '2.0', id: 1, result: '0x18c6' })
    await assertHealthy()
  })
})

describe('bad params', { timeout: 60_000 }, () => {
  test('addresses, quantities, block tags, hashes, arity → -32602 with a precise message', async () => {
    const cases: Array<[string, unknown[], string]> = [
      ['eth_getBalance', ['0x123', 'latest'], 'invalid argument 0: hex string has length 3, want 40 for address'],
      ['eth_getBalance', [ADDRESS.slice(2), 'latest'], 'invalid argument 0: hex string without 0x prefix'],
      ['eth_getBalance', [`0x${'zz'.repeat(20)}`, 'latest'], 'invalid argument 0: invalid hex string'],
      ['eth_getBalance', [12345, 'latest'], 'invalid argument 0: expected address as a 0x-prefixed hex string, got number'],
      [
        'eth_getBalance',
        [ADDRESS, 'latestt'],
        'invalid argument 1: invalid block tag: expected a hex block number, a block hash or one of latest, pending, safe, finalized, earliest',
      ],
      ['eth_getBalance', [ADDRESS, '0x01'], 'invalid argument 1: hex number with leading zero digits'],
      ['eth_getBalance', [ADDRESS, '0x'], 'invalid argument 1: empty hex string'],
      ['eth_getBalance', [ADDRESS, '0x10000000000000000'], 'invalid argument 1: hex number > 64 bits'],
      [
        'eth_getBalance',
        [ADDRESS, { blockNumber: '0x0', blockHash: `0x${'00'.repeat(32)}` }],
        'invalid argument 1: cannot specify both blockHash and blockNumber, choose one or the other',
      ],
      ['eth_getBalance', [], 'missing value for required argument 0'],
      ['eth_blockNumber', [1], 'too many arguments, want at most 0'],
      ['eth_getBlockByNumber', ['0x1'], 'missing value for required argument 1'],
      ['eth_getBlockByNumber', ['0x1', 'yes'], 'invalid argument 1: expected boolean, got string'],
      ['eth_getBlockByNumber', [true, false], 'invalid argument 0: expected a block number, tag or hash, got boolean'],
      ['eth_getTransactionReceipt', ['0x1234'], 'invalid argument 0: hex string has length 4, want 64 for hash'],
      ['eth_getStorageAt', [ADDRESS, '0xzz', 'latest'], 'invalid argument 1: invalid hex in storage key'],
      [
        'eth_getStorageAt',
        [ADDRESS, `0x1${'0'.repeat(64)}`, 'latest'],
        'invalid argument 1: storage key too long (want at most 32 bytes)',
      ],
      ['eth_sendRawTransaction', ['0xabc'], 'invalid argument 0: hex string of odd length'],
      ['eth_sendRawTransaction', ['f86b'], 'invalid argument 0: hex string without 0x prefix'],
      ['eth_call', [{ to: '0x1234' }, 'latest'], 'invalid argument 0: to: hex string has length 4, want 40 for address'],
      ['eth_call', ['not an object'], 'invalid argument 0: expected a call object'],
      [
        'eth_call',
        [{ to: ADDRESS, gasPrice: '0x1', maxFeePerGas: '0x1' }],
        'invalid argument 0: both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified',
      ],
      ['eth_getLogs', [{ fromBlock: '0x5', toBlock: '0x1' }], 'invalid block range params'],
      ['eth_feeHistory', ['0x1', 'latest', [50, 10]], 'invalid reward percentile: #0:50.000000 >= #1:10.000000'],
    ]
    const wrong: string[] = []
    for (const [method, params, message] of cases) {
      const r = await rpcRaw(node.rpcUrl, method, params)
      if (r.error?.code !== -32602 || r.error.message !== message) {
        wrong.push(
          `${method}(${JSON.stringify(params).slice(0, 80)}): got ${JSON.stringify(r.error ?? r.result)}, want -32602 ${JSON.stringify(message)}`,
        )
      }
    }
    assert.deepEqual(wrong, [], wrong.join('\n'))
    await assertHealthy()
  })

  test('unknown blocks and transactions are null, not errors', async () => {
    assert.equal(await rpc(node.rpcUrl, 'eth_getBlockByNumber', ['0xffffffff', false]), null)
    assert.equal(await rpc(node.rpcUrl, 'eth_getBlockByHash', [`0x${'ab'.repeat(32)}`, false]), null)
    assert.equal(await rpc(node.rpcUrl, 'eth_getTransactionByHash', [`0x${'cd'.repeat(32)}`]), null)
    assert.equal(await rpc(node.rpcUrl, 'eth_getTransactionReceipt', [`0x${'ef'.repeat(32)}`]), null)
    assert.equal(await rpc(node.rpcUrl, 'eth_getBlockTransactionCountByNumber', ['0xffffffff']), null)
    await assertHealthy()
  })
})

describe('invalid transactions over RPC', { timeout: 60_000 }, () => {
  const sender = privateKeyToAccount(DEV_KEYS[17]!)

  test("garbage bytes, unsupported types, wrong chain id, unprotected, bad signature → -32000 with geth's messages", async () => {
    assert.deepEqual(await sendError('0x'), { code: -32000, message: 'rlp: empty transaction' })
    const garbage = await sendError('0xdeadbeef')
    assert.equal(garbage.code, -32000)
    assert.match(garbage.message, /^rlp: /)
    assert.deepEqual(await sendError('0x05c0'), { code: -32000, message: 'transaction type not supported' })
    assert.deepEqual(await sendError('0x03c0'), { code: -32000, message: 'transaction type not supported' })
    const list = await sendError('0xc3010203')
    assert.equal(list.code, -32000)
    assert.match(list.message, /^rlp: /)

    const wrongChain = await sender.signTransaction({
      chainId: 1,
      type: 'eip1559',
      to: ADDRESS,
      value: 1n,
      gas: 21_000n,
      nonce: 0,
      ...FEE,
    })
    assert.deepEqual(await sendError(wrongChain), { code: -32000, message: 'invalid chain id: have 1, want 6342' })
    const wrongLegacyChain = await sender.signTransaction({
      chainId: 5,
      type: 'legacy',
      to: ADDRESS,
      value: 1n,
      gas: 21_000n,
      nonce: 0,
      gasPrice: 10_000_000_000n,
    })
    assert.deepEqual(await sendError(wrongLegacyChain), { code: -32000, message: 'invalid chain id: have 5, want 6342' })
    const unprotected = await sender.signTransaction({
      type: 'legacy',
      to: ADDRESS,
      value: 1n,
      gas: 21_000n,
      nonce: 0,
      gasPrice: 10_000_000_000n,
    })
    assert.deepEqual(await sendError(unprotected), {
      code: -32000,
      message: 'only replay-protected (EIP-155) transactions allowed over RPC',
    })

    // Signature values out of range: r = 0, and high s (EIP-2 malleability).
    const base = {
      nonce: 0n,
      maxPriorityFeePerGas: 0n,
      maxFeePerGas: FEE.maxFeePerGas,
      gas: 21_000n,
      to: ADDRESS as Hex,
      value: 1n,
    }
    const valid = await rawEip1559(DEV_KEYS[17]!, base)
    assert.equal(
      await rpc(node.rpcUrl, 'eth_call', [{ from: sender.address, to: ADDRESS, value: '0x1' }]),
      '0x',
      'the hand-built tx fields are sane',
    )
    const parts = fromRlp(`0x${valid.slice(4)}`, 'hex') as Hex[]
    const r = hexToBigInt(parts[10]!)
    const sv = hexToBigInt(parts[11]!)
    const yParity = parts[9] === '0x' ? 0 : 1
    assert.deepEqual(await sendError(await rawEip1559(DEV_KEYS[17]!, base, { r: 0n, s: sv, yParity })), {
      code: -32000,
      message: 'invalid sender: invalid transaction v, r, s values',
    })
    assert.deepEqual(await sendError(await rawEip1559(DEV_KEYS[17]!, base, { r, s: SECP256K1_N - sv, yParity: 1 - yParity })), {
      code: -32000,
      message: 'invalid sender: invalid transaction v, r, s values',
    })
    assert.deepEqual(await sendError(await rawEip1559(DEV_KEYS[17]!, base, { r, s: sv, yParity: 2 })), {
      code: -32000,
      message: 'invalid sender: invalid transaction v, r, s values',
    })
    // A different but well-formed signature recovers some other (unfunded) sender: a state error, not a format one.
    const other = await sendError(await rawEip1559(DEV_KEYS[17]!, base, { r, s: sv - 1n, yParity }))
    assert.equal(other.code, -32000)
    assert.match(other.message, /^(insufficient funds|invalid sender)/)
    await assertHealthy()
  })

  test('gas and fee checks: intrinsic gas, block gas limit, tip > cap, below base fee', async () => {
    assert.deepEqual(await sendError(await signTx(sender, { nonce: 0, gas: 20_000n })), {
      code: -32000,
      message: 'intrinsic gas too low: gas 20000, minimum needed 21000',
    })
    assert.deepEqual(await sendError(await signTx(sender, { nonce: 0, gas: 21_000n, data: '0x01' })), {
      code: -32000,
      message: 'intrinsic gas too low: gas 21000, minimum needed 21016',
    })
    // Osaka's 2^24 transaction cap (EIP-7825) is below the mini-block gas limit: it is the limit a dev-chain transaction meets.
    assert.deepEqual(await sendError(await signTx(sender, { nonce: 0, gas: 3_000_000_000n })), {
      code: -32000,
      message: 'transaction gas limit too high (cap: 16777216, tx: 3000000000)',
    })
    assert.deepEqual(await sendError(await signTx(sender, { nonce: 0, gas: 16_777_217n })), {
      code: -32000,
      message: 'transaction gas limit too high (cap: 16777216, tx: 16777217)',
    })
    assert.deepEqual(
      await sendError(
        await rawEip1559(DEV_KEYS[17]!, {
          nonce: 0n,
          maxPriorityFeePerGas: 2n * FEE.maxFeePerGas,
          maxFeePerGas: FEE.maxFeePerGas,
          gas: 21_000n,
          to: ADDRESS,
          value: 1n,
        }),
      ),
      { code: -32000, message: 'max priority fee per gas higher than max fee per gas' },
    )
    const low = await sendError(await signTx(sender, { nonce: 0, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n }))
    assert.equal(low.code, -32000)
    assert.match(
      low.message,
      new RegExp(
        `^max fee per gas less than block base fee: address ${sender.address.toLowerCase()}, maxFeePerGas: 1, baseFee: \\d+$`,
      ),
    )
    await assertHealthy()
  })

  test('state checks: insufficient funds, nonce too low, nonce too high, underpriced replacement, already known', async () => {
    const broke = privateKeyToAccount(generatePrivateKey())
    const poor = await sendError(await signTx(broke, { nonce: 0, value: parseEther('1') }))
    assert.equal(poor.code, -32000)
    assert.equal(
      poor.message,
      `insufficient funds for gas * price + value: balance 0, tx cost ${21_000n * FEE.maxFeePerGas + parseEther('1')}`,
    )

    const fresh = privateKeyToAccount(DEV_KEYS[18]!)
    const first = await rpc<{ status: Hex }>(node.rpcUrl, 'eth_sendRawTransactionSync', [await signTx(fresh, { nonce: 0 })])
    assert.equal(first.status, '0x1')
    assert.deepEqual(await sendError(await signTx(fresh, { nonce: 0, value: 2n })), {
      code: -32000,
      message: 'nonce too low: next nonce 1, tx nonce 0',
    })
    assert.deepEqual(await sendError(await signTx(fresh, { nonce: 1_000 })), { code: -32000, message: 'nonce too high' })

    // A gapped (queued) tx stays in the pool: replace it too cheaply, then resend it verbatim.
    const queued = await signTx(fresh, { nonce: 5 })
    assert.equal(await rpc(node.rpcUrl, 'eth_sendRawTransaction', [queued]), keccak256(queued))
    assert.deepEqual(await sendError(queued), { code: -32000, message: 'already known' })
    assert.deepEqual(await sendError(await signTx(fresh, { nonce: 5, value: 99n })), {
      code: -32000,
      message: 'replacement transaction underpriced',
    })
    assert.deepEqual(
      await sendError(
        await signTx(fresh, {
          nonce: 5,
          value: 99n,
          maxFeePerGas: FEE.maxFeePerGas + FEE.maxFeePerGas / 20n,
          maxPriorityFeePerGas: 0n,
        }),
      ),
      { code: -32000, message: 'replacement transaction underpriced' },
    )
    // Raising both fee cap and tip by ≥ 10 % (and strictly) replaces it, as geth.
    const bumped = await signTx(fresh, { nonce: 5, value: 99n, maxFeePerGas: FEE.maxFeePerGas * 2n, maxPriorityFeePerGas: 1n })
    assert.equal(await rpc(node.rpcUrl, 'eth_sendRawTransaction', [bumped]), keccak256(bumped))
    assert.deepEqual(
      await sendError(queued),
      { code: -32000, message: 'replacement transaction underpriced' },
      'the replaced tx is no longer known; resending it is an underpriced replacement',
    )
    await assertHealthy()
  })

  test('a flood of invalid txs in one batch is answered item by item and nothing lands', async () => {
    const broke = privateKeyToAccount(generatePrivateKey())
    const raws = await Promise.all(Array.from({ length: 100 }, (_, i) => signTx(broke, { nonce: i })))
    const batch = raws.map((raw, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_sendRawTransaction', params: [raw] }))
    const r = (await post(JSON.stringify(batch))).json as RpcResponse[]
    assert.equal(r.length, 100)
    assert.ok(
      r.every((x, i) => x.id === i && x.error?.code === -32000 && /insufficient funds/.test(x.error.message)),
      'every item: insufficient funds',
    )
    assert.equal(await rpc(node.rpcUrl, 'eth_getTransactionCount', [broke.address, 'pending']), '0x0')
    await assertHealthy()
  })
})

describe('WebSocket abuse', { timeout: 90_000 }, () => {
  test('malformed WS messages get JSON-RPC errors on the same socket', async () => {
    const ws = await WsRpc.connect(node.wsUrl)
    try {
      const answers: unknown[] = []
      ws.socket.on('message', (data) => answers.push(JSON.parse(data.toString())))
      ws.sendRaw('{not json')
      ws.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'nope' }))
      ws.sendRaw(JSON.stringify([]))
      await waitFor('3 answers', () => answers.length >= 3, 5_000)
      // WS messages are handled concurrently: match answers by content, not arrival order.
      const byCode = (code: number) => (answers as RpcResponse[]).filter((a) => a.error?.code === code)
      assert.equal(byCode(-32700).length, 1, 'parse error answered')
      assert.equal(byCode(-32700)[0]!.id, null)
      assert.equal(byCode(-32601).length, 1, 'unknown method answered')
      assert.equal(byCode(-32601)[0]!.id, 1)
      assert.deepEqual(byCode(-32600)[0]?.error, { code: -32600, message: 'empty batch' })
      assert.equal(await ws.call('eth_chainId'), '0x18c6')
      const badSub = await ws.request('eth_subscribe', ['bogus'])
      assert.equal(badSub.error?.code, -32602)
      assert.match(badSub.error?.message ?? '', /^invalid argument 0: unsupported subscription type "bogus"/)
      const badState = await ws.request('eth_subscribe', ['stateChanges', []])
      assert.equal(badState.error?.code, -32602)
      assert.equal(await ws.call('eth_unsubscribe', ['0x0123']), false)
    } finally {
      await ws.close()
    }
    await assertHealthy()
  })

  test('subscriptions over the per-connection cap (default 128) → -32005; freeing one allows another', async () => {
    const ws = await WsRpc.connect(node.wsUrl)
    try {
      const ids: string[] = []
      for (let i = 0; i < 128; i++) ids.push(await ws.subscribe(['newHeads']))
      const over = await ws.request('eth_subscribe', ['newHeads'])
      assert.deepEqual(over.error, { code: -32005, message: 'subscription limit reached (128 per connection)' })
      assert.equal(await ws.call('eth_unsubscribe', [ids[0]]), true)
      assert.match(await ws.subscribe(['miniBlocks']), /^0x[0-9a-f]{32}$/)
      // All those subscriptions are live: the next block reaches every one of them.
      const before = ws.notifications.length
      await waitFor('a newHeads notification for each subscription', () => ws.notifications.length - before >= 127, 10_000, 50)
    } finally {
      await ws.close()
    }
    await assertHealthy()
  })

  test('a flood of connections, each subscribing, then gone: the node keeps serving', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => WsRpc.connect(node.wsUrl)))
    try {
      await Promise.all(sockets.map((s) => s.subscribe(['newHeads'])))
      await waitFor('every socket to get a head', () => sockets.every((s) => s.notifications.length > 0), 10_000, 100)
      await assertHealthy()
    } finally {
      // Half close cleanly, half just drop.
      await Promise.all(sockets.map((s, i) => (i % 2 === 0 ? s.close() : Promise.resolve(s.socket.terminate()))))
    }
    await assertHealthy()
  })

  test('connections over --rpc.ws-connections are refused (503); subscriptions over --rpc.ws-subscriptions → -32005', async () => {
    const open: WsRpc[] = []
    try {
      for (let i = 0; i < 20; i++) open.push(await WsRpc.connect(limited.wsUrl))
      const refused = await Promise.allSettled(Array.from({ length: 10 }, () => WsRpc.connect(limited.wsUrl)))
      for (const r of refused) {
        if (r.status === 'fulfilled') {
          // A handshake that raced past the pre-check is closed right away with 1013 (try again later).
          open.push(r.value)
          await waitFor('over-cap socket to be closed', () => r.value.closed !== undefined, 5_000)
          assert.equal(r.value.closed?.code, 1013)
        } else {
          assert.equal((r.reason as { statusCode?: number }).statusCode, 503, String(r.reason))
        }
      }
      const ws = open[0]!
      for (let i = 0; i < 5; i++) await ws.subscribe(['newHeads'])
      const over = await ws.request('eth_subscribe', ['logs', {}])
      assert.deepEqual(over.error, { code: -32005, message: 'subscription limit reached (5 per connection)' })
    } finally {
      await Promise.all(open.map((s) => s.close()))
    }
    // Slots are released: a new connection gets in.
    const again = await waitFor(
      'a connection after the others closed',
      () => WsRpc.connect(limited.wsUrl).catch(() => undefined),
      5_000,
      100,
    )
    assert.equal(await again.call('eth_chainId'), '0x18c6')
    await again.close()
    await assertHealthy(limited)
  })

  test('a WS message over the 5 MiB frame limit closes that socket with 1009, others unaffected', async () => {
    const victim = await WsRpc.connect(node.wsUrl)
    const bystander = await WsRpc.connect(node.wsUrl)
    try {
      victim.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(5 * 1024 * 1024 + 10)] }))
      await waitFor('the oversized socket to close', () => victim.closed !== undefined, 10_000, 50)
      assert.equal(victim.closed?.code, 1009)
      assert.equal(await bystander.call('eth_chainId'), '0x18c6')
    } finally {
      await Promise.all([victim.close(), bystander.close()])
    }
    await assertHealthy()
  })
})

describe('CLI config errors: exit 2 and one precise line on stderr', { timeout: 90_000 }, () => {
  const expectConfigError = async (key: string, line: string) => {
    const r = await cli[key]!
    assert.equal(r.code, 2, `${key}: exit code (stderr: ${r.stderr})`)
    assert.equal(r.stderr, `${line}\n`, `${key}: stderr`)
  }

  test('--rpc.port=abc', () => expectConfigError('badPort', 'megaeth-node: --rpc.port: expected a whole number, got "abc"'))
  test('--rpc.port=70000', () => expectConfigError('portRange', 'megaeth-node: --rpc.port: 70000 is out of range [0, 65535]'))
  test('unknown flag', () => expectConfigError('unknownFlag', 'megaeth-node: unknown flag --bogus (see --help)'))
  test('--role=replica without bootnodes', () =>
    expectConfigError(
      'replica',
      "megaeth-node: --role=replica needs --p2p.bootnodes: the sequencer's multiaddr with /p2p/<peer id> (its mega_nodeInfo lists them)",
    ))
  test('--role=prover without an L1', () =>
    expectConfigError(
      'prover',
      'megaeth-node: --role=prover needs --l1.rpc and --rollup.config: it derives the chain from L1 and plays the games there',
    ))
  test('missing --genesis without --dev', () =>
    expectConfigError('noGenesis', 'megaeth-node: --genesis is required unless --dev is set'))
  test('--block-ms below --miniblock-ms', () =>
    expectConfigError('blockMs', 'megaeth-node: --block-ms (50) must be at least --miniblock-ms (100)'))
})
