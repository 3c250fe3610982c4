// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * Prague and Osaka against anvil 1.7.1 pinned to `--hardfork osaka`: the same signed transactions
 * and calls go to megaeth-node (`--dev`, Osaka from genesis) and to anvil, and what does not depend
 * on block layout must agree: receipts (status, gasUsed, logs), code, storage, call results and gas
 * estimates. Covered: EIP-7702 delegation, a call into the delegated EOA from a contract,
 * re-delegation and clearing; P256VERIFY (EIP-7951) with valid and invalid vectors; every BLS12-381
 * precompile (EIP-2537); CLZ (EIP-7939); MODEXP edge sizes (EIP-7823/7883); calldata-heavy
 * transactions on the EIP-7623 floor; a transaction over the EIP-7825 cap; EIP-2935 history reads.
 * Then viem's own flow (`signAuthorization` + `sendTransaction({ authorizationList })`) on the node.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { p256 } from '@noble/curves/nist.js'
import {
  concat,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  keccak256,
  pad,
  toHex,
  type Address,
  type Hex,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ANVIL_ARGS,
  DEV_CHAIN_ID,
  DEV_KEYS,
  rpc,
  rpcRaw,
  startAnvil,
  startNode,
  waitFor,
  type AnvilHandle,
  type NodeHandle,
} from '../helpers/node-process.ts'

const GAS_PRICE = 2_000_000_000n
/** Runtime: SSTORE(0, CALLER); LOG0(); return ADDRESS — run in a delegating EOA, it writes the EOA's storage. */
const DELEGATE_A_RUNTIME = '335f555f5fa0305f5260205ff3'
/** Runtime: SSTORE(1, CALLER); return ADDRESS — a second delegate for re-delegation. */
const DELEGATE_B_RUNTIME = '3360015530' + '5f5260205ff3'
/** Runtime: SSTORE(0, CALL(gas, calldata[0:32], 0, 0, 0, 0, 0)) — calls the address it is given. */
const CALLER_RUNTIME = '5f5f5f5f5f5f355af15f5500'
const HISTORY_STORAGE: Address = '0x0000F90827F1C53a10cb7A02335B175320002935'

/** Init code that deploys `runtime` (hex without 0x): CODECOPY it to memory and return it. */
function initCode(runtime: string): Hex {
  const length = runtime.length / 2
  const len = length.toString(16).padStart(2, '0')
  return `0x60${len}600a5f3960${len}5ff3${runtime}`
}

interface RpcReceipt {
  status: Hex
  gasUsed: Hex
  contractAddress: Address | null
  logs: Array<{ address: Address; topics: Hex[]; data: Hex }>
}

let node: NodeHandle
let anvil: AnvilHandle
const A = privateKeyToAccount(DEV_KEYS[17]!)
/** The EOA that delegates; it never sends a transaction itself (B sponsors its authorizations). */
const EOA = privateKeyToAccount(DEV_KEYS[18]!)
const B = privateKeyToAccount(DEV_KEYS[19]!)
const nonces = new Map<Address, number>()
const mismatches: string[] = []

function nextNonce(account: PrivateKeyAccount): number {
  const nonce = nonces.get(account.address) ?? 0
  nonces.set(account.address, nonce + 1)
  return nonce
}

async function sign(
  account: PrivateKeyAccount,
  tx: {
    to?: Address
    data?: Hex
    gas: bigint
    authorizationList?: Awaited<ReturnType<PrivateKeyAccount['signAuthorization']>>[]
  },
): Promise<Hex> {
  const base = {
    chainId: DEV_CHAIN_ID,
    nonce: nextNonce(account),
    gas: tx.gas,
    to: tx.to ?? null,
    data: tx.data ?? '0x',
    maxFeePerGas: GAS_PRICE,
    maxPriorityFeePerGas: GAS_PRICE,
  } as const
  if (tx.authorizationList !== undefined)
    return account.signTransaction({ ...base, type: 'eip7702', to: tx.to!, authorizationList: tx.authorizationList })
  return account.signTransaction({ ...base, type: 'eip1559' })
}

/** One signed tx to both chains; records a mismatch of status, gasUsed or logs; returns the node's receipt. */
async function send(name: string, raw: Hex): Promise<RpcReceipt> {
  const hash = keccak256(raw)
  const [ours] = await Promise.all([
    rpc<RpcReceipt>(node.rpcUrl, 'eth_sendRawTransactionSync', [raw, 10_000]),
    rpc<Hex>(anvil.rpcUrl, 'eth_sendRawTransaction', [raw]),
  ])
  const theirs = await waitFor(
    `${name}: anvil receipt`,
    () => rpc<RpcReceipt | null>(anvil.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
    10_000,
    20,
  )
  const view = (r: RpcReceipt) => ({
    status: r.status,
    gasUsed: BigInt(r.gasUsed).toString(),
    logs: r.logs.map((l) => [l.address.toLowerCase(), l.topics, l.data]),
  })
  compare(name, view(ours), view(theirs))
  return ours
}

function compare(name: string, ours: unknown, theirs: unknown): void {
  try {
    assert.deepEqual(ours, theirs)
  } catch {
    mismatches.push(`${name}:\n  megaeth-node ${JSON.stringify(ours)}\n  anvil        ${JSON.stringify(theirs)}`)
  }
}

/** The same read on both chains; a mismatch is recorded; returns the node's answer. */
async function same(name: string, method: string, params: unknown[]): Promise<{ result?: unknown; error?: { message: string } }> {
  const [n, a] = await Promise.all([rpcRaw(node.rpcUrl, method, params), rpcRaw(anvil.rpcUrl, method, params)])
  const view = (r: { result?: unknown; error?: { message: string } }) =>
    r.error === undefined ? { result: r.result } : { error: true }
  compare(name, view(n), view(a))
  return n
}

/** eth_call and eth_estimateGas of `data` sent to `to` from A, on both chains. */
async function sameCall(name: string, to: Address | undefined, data: Hex): Promise<unknown> {
  const call = { from: A.address, ...(to === undefined ? {} : { to }), data }
  const result = await same(`${name} (eth_call)`, 'eth_call', [call, 'latest'])
  await same(`${name} (eth_estimateGas)`, 'eth_estimateGas', [call, 'latest'])
  return result.result
}

before(async () => {
  ;[node, anvil] = await Promise.all([startNode(), startAnvil(DEV_CHAIN_ANVIL_ARGS)])
})

after(async () => {
  await Promise.all([node?.stop(), anvil?.stop()])
})

describe('Prague and Osaka: megaeth-node vs anvil --hardfork osaka', { timeout: 180_000 }, () => {
  const deployed: Record<string, Address> = {}

  test('EIP-7702: delegation, a call from a contract, re-delegation and clearing agree', async () => {
    for (const [name, runtime] of [
      ['delegateA', DELEGATE_A_RUNTIME],
      ['delegateB', DELEGATE_B_RUNTIME],
      ['caller', CALLER_RUNTIME],
    ] as const) {
      const receipt = await send(`deploy ${name}`, await sign(A, { data: initCode(runtime), gas: 100_000n }))
      deployed[name] = receipt.contractAddress!
    }
    const authorize = (address: Address, nonce: number) => EOA.signAuthorization({ chainId: DEV_CHAIN_ID, address, nonce })
    let eoaNonce = 0
    const delegated = await send(
      'B sponsors EOA → delegateA and calls it',
      await sign(B, { to: EOA.address, gas: 200_000n, authorizationList: [await authorize(deployed['delegateA']!, eoaNonce++)] }),
    )
    assert.equal(delegated.status, '0x1')
    const code = await same('code of the delegated EOA', 'eth_getCode', [EOA.address, 'latest'])
    assert.equal(
      code.result,
      `0xef0100${deployed['delegateA']!.slice(2).toLowerCase()}`,
      'eth_getCode returns the delegation designator',
    )
    await same('EOA slot 0 after its own code ran', 'eth_getStorageAt', [EOA.address, '0x0', 'latest'])
    const viaContract = await send(
      'caller contract calls the delegated EOA',
      await sign(A, { to: deployed['caller'], data: pad(EOA.address), gas: 200_000n }),
    )
    assert.equal(viaContract.status, '0x1')
    const slot = await same('EOA slot 0 written by the delegate for the caller contract', 'eth_getStorageAt', [
      EOA.address,
      '0x0',
      'latest',
    ])
    assert.equal(
      BigInt(slot.result as Hex),
      BigInt(deployed['caller']!),
      'the delegate ran in the EOA with the contract as CALLER',
    )
    await sameCall('eth_call into the delegated EOA returns its own address', EOA.address, '0x')
    await send('plain value-less call to the delegated EOA runs its code', await sign(A, { to: EOA.address, gas: 100_000n }))
    await send(
      're-delegate EOA → delegateB',
      await sign(B, { to: EOA.address, gas: 200_000n, authorizationList: [await authorize(deployed['delegateB']!, eoaNonce++)] }),
    )
    await same('code after re-delegation', 'eth_getCode', [EOA.address, 'latest'])
    await same('EOA slot 1 written by delegateB', 'eth_getStorageAt', [EOA.address, '0x1', 'latest'])
    await send(
      'authorization with a wrong nonce is skipped, the tx still runs',
      await sign(B, { to: EOA.address, gas: 200_000n, authorizationList: [await authorize(deployed['delegateA']!, 99)] }),
    )
    await send(
      'clear the delegation (address zero)',
      await sign(B, {
        to: EOA.address,
        gas: 200_000n,
        authorizationList: [await authorize('0x0000000000000000000000000000000000000000', eoaNonce++)],
      }),
    )
    const cleared = await same('code after clearing', 'eth_getCode', [EOA.address, 'latest'])
    assert.equal(cleared.result, '0x')
    await same('EOA nonce after three authorizations', 'eth_getTransactionCount', [EOA.address, 'latest'])
  })

  test('P256VERIFY, BLS12-381, CLZ and MODEXP give the same results and gas', async () => {
    const key = p256.utils.randomSecretKey()
    const hash = keccak256(toHex('megaeth p256'))
    const signature = p256.sign(hexBytes(hash), key, { prehash: false, format: 'compact' })
    const publicKey = p256.getPublicKey(key, false)
    const p256Input = concat([hash, toHex(signature), toHex(publicKey.subarray(1))])
    assert.equal(
      await sameCall('P256VERIFY valid signature', '0x0000000000000000000000000000000000000100', p256Input),
      pad('0x01'),
    )
    const tampered = concat([keccak256(toHex('other message')), toHex(signature), toHex(publicKey.subarray(1))])
    assert.equal(await sameCall('P256VERIFY invalid signature', '0x0000000000000000000000000000000000000100', tampered), '0x')
    await sameCall('P256VERIFY short input', '0x0000000000000000000000000000000000000100', '0x1234')

    const zeros = (n: number): Hex => `0x${'00'.repeat(n)}`
    // Points at infinity and zero field elements: valid inputs of every BLS12-381 precompile.
    const bls: Array<[string, number, number]> = [
      ['G1ADD', 0x0b, 256],
      ['G1MSM', 0x0c, 160],
      ['G2ADD', 0x0d, 512],
      ['G2MSM', 0x0e, 288],
      ['PAIRING', 0x0f, 384],
      ['MAP_FP_TO_G1', 0x10, 64],
      ['MAP_FP2_TO_G2', 0x11, 128],
    ]
    for (const [name, address, size] of bls) {
      const at = `0x${address.toString(16).padStart(40, '0')}` as Address
      await sameCall(`BLS ${name}`, at, zeros(size))
      await sameCall(`BLS ${name} with a wrong length`, at, zeros(size - 1))
    }

    // CLZ (0x1e) in init code: PUSH1 x CLZ PUSH0 MSTORE PUSH1 32 PUSH0 RETURN — the "deployed code" is the result.
    for (const x of ['01', '00', 'ff']) {
      const result = await sameCall(`CLZ(0x${x})`, undefined, `0x60${x}1e5f5260205ff3`)
      if (x === '01') assert.equal(BigInt(result as Hex), 255n)
    }

    const modexp = (baseLen: number, expLen: number, modLen: number): Hex =>
      concat([
        pad(toHex(baseLen)),
        pad(toHex(expLen)),
        pad(toHex(modLen)),
        `0x${'03'.repeat(baseLen)}`,
        `0x${'ff'.repeat(expLen)}`,
        `0x${'07'.repeat(modLen)}`,
      ])
    for (const [b, e, m] of [
      [1, 1, 1],
      [32, 32, 32],
      [0, 0, 0],
      [1024, 1, 1024],
      [1025, 1, 1],
      [1, 1025, 1],
      [64, 33, 64],
    ] as const) {
      await sameCall(`MODEXP base ${b} exp ${e} mod ${m}`, '0x0000000000000000000000000000000000000005', modexp(b, e, m))
    }
    assert.deepEqual(mismatches, [], `differences:\n${mismatches.join('\n')}`)
  })

  test('calldata-heavy transactions pay the EIP-7623 floor on both', async () => {
    const heavy = await send(
      '1,000 non-zero bytes to an EOA (floor 61,000)',
      await sign(A, { to: B.address, data: `0x${'ab'.repeat(1000)}`, gas: 100_000n }),
    )
    assert.equal(BigInt(heavy.gasUsed), 61_000n)
    await send(
      'calldata to a contract that stores (execution above the floor)',
      await sign(A, { to: deployed['caller'], data: pad(B.address), gas: 200_000n }),
    )
    assert.deepEqual(mismatches, [], `differences:\n${mismatches.join('\n')}`)
  })

  test("a transaction over the EIP-7825 gas cap is refused with geth's message; one at the cap is accepted", async () => {
    // Not sent to anvil: anvil 1.7.1 at --hardfork osaka accepts and mines it (it does not apply the
    // cap), which geth and reth refuse; the node follows them.
    const over = await A.signTransaction({
      chainId: DEV_CHAIN_ID,
      nonce: nonces.get(A.address) ?? 0,
      gas: 16_777_217n,
      to: B.address,
      maxFeePerGas: GAS_PRICE,
      maxPriorityFeePerGas: GAS_PRICE,
      type: 'eip1559',
    })
    const refused = await rpcRaw(node.rpcUrl, 'eth_sendRawTransaction', [over])
    assert.equal(refused.error?.message, 'transaction gas limit too high (cap: 16777216, tx: 16777217)')
    assert.equal(refused.error?.code, -32000)
    await send('a transfer at exactly the cap', await sign(A, { to: B.address, gas: 16_777_216n }))
    assert.deepEqual(mismatches, [], `differences:\n${mismatches.join('\n')}`)
  })

  test('EIP-2935: the history contract answers an old block hash (each chain its own)', async () => {
    const head = BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber'))
    await waitFor('two more blocks', async () => BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')) >= head + 2n, 10_000, 100)
    for (const [name, url] of [
      ['megaeth-node', node.rpcUrl],
      ['anvil', anvil.rpcUrl],
    ] as const) {
      const code = await rpc<Hex>(url, 'eth_getCode', [HISTORY_STORAGE, 'latest'])
      assert.notEqual(code, '0x', `${name} has the history contract`)
      const target = BigInt(await rpc<Hex>(url, 'eth_blockNumber')) - 1n
      const block = await rpc<{ hash: Hex }>(url, 'eth_getBlockByNumber', [toHex(target), false])
      const answer = await rpc<Hex>(url, 'eth_call', [{ to: HISTORY_STORAGE, data: pad(toHex(target)) }, 'latest'])
      assert.equal(answer, block.hash, `${name}: history contract returns block ${target}'s hash`)
    }
  })

  test('viem: signAuthorization + sendTransaction({ authorizationList }) turns an EOA into a smart account', async () => {
    const chain = defineChain({
      id: DEV_CHAIN_ID,
      name: 'megaeth-dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl] } },
    })
    const fresh = privateKeyToAccount(generatePrivateKey())
    const funder = createWalletClient({ account: privateKeyToAccount(DEV_KEYS[10]!), chain, transport: http(node.rpcUrl) })
    const pub = createPublicClient({ chain, transport: http(node.rpcUrl) })
    await pub.waitForTransactionReceipt({
      hash: await funder.sendTransaction({ to: fresh.address, value: 10n ** 18n }),
      pollingInterval: 50,
    })
    const wallet = createWalletClient({ account: fresh, chain, transport: http(node.rpcUrl) })
    const authorization = await wallet.signAuthorization({ contractAddress: deployed['delegateA']!, executor: 'self' })
    const hash = await wallet.sendTransaction({ to: fresh.address, authorizationList: [authorization] })
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 50 })
    assert.equal(receipt.status, 'success')
    assert.equal(receipt.type, 'eip7702')
    assert.equal(await pub.getCode({ address: fresh.address }), `0xef0100${deployed['delegateA']!.slice(2).toLowerCase()}`)
    // Its code ran in its own context: slot 0 holds the caller (itself).
    assert.equal(BigInt((await pub.getStorageAt({ address: fresh.address, slot: '0x0' }))!), BigInt(fresh.address))
    const tx = await pub.getTransaction({ hash })
    assert.equal(tx.type, 'eip7702')
    assert.equal(tx.authorizationList?.[0]?.address.toLowerCase(), deployed['delegateA']!.toLowerCase())
    // Calls to it now run the delegate: it returns its own address.
    const { data } = await pub.call({ to: fresh.address })
    assert.equal(BigInt(data!), BigInt(fresh.address))
  })
})

function hexBytes(hex: Hex): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))
}
