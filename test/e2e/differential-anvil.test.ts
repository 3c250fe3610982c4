// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * Differential test: the same signed transactions go to megaeth-node and to anvil (Osaka, chain
 * id 6342, auto-mining), then everything that does not depend on block layout must agree:
 * receipts (status, gasUsed, logs, contractAddress, effectiveGasPrice), balances, nonces, code,
 * storage, storage roots, `eth_call` results and errors, `eth_estimateGas`.
 *
 * Fees are made chain-independent: every tx pays exactly its fee cap (legacy `gasPrice`, or 1559
 * with maxPriorityFeePerGas = maxFeePerGas, so effectiveGasPrice = min(cap, baseFee + tip) = cap),
 * which makes even the senders' balances comparable.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import {
  encodeAbiParameters,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  keccak256,
  concat,
  pad,
  parseEther,
  toHex,
  type Address,
  type Hex,
} from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import {
  DEV_CHAIN_ANVIL_ARGS,
  DEV_CHAIN_ID,
  DEV_KEYS,
  freePort,
  rpc,
  rpcRaw,
  startAnvil,
  startNode,
  waitFor,
  type AnvilHandle,
  type NodeHandle,
} from '../helpers/node-process.ts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'

const GAS_PRICE = 2_000_000_000n // ≥ both chains' base fee
const DETERMINISTIC_DEPLOYER: Address = '0x4e59b44847b379578588920ca78fbf26c0b4956c'

let node: NodeHandle
let anvil: AnvilHandle

interface Step {
  name: string
  raw: Hex
  hash: Hex
}

interface RpcReceipt {
  transactionHash: Hex
  status: Hex
  gasUsed: Hex
  effectiveGasPrice: Hex
  contractAddress: Address | null
  from: Address
  to: Address | null
  type: Hex
  logs: Array<{ address: Address; topics: Hex[]; data: Hex; logIndex: Hex }>
  blockHash: Hex | null
}

const A = privateKeyToAccount(DEV_KEYS[15]!)
const B = privateKeyToAccount(DEV_KEYS[16]!)
const R1: Address = '0x1111111111111111111111111111111111111111'
const R2: Address = '0x2222222222222222222222222222222222222222'
const nonces = new Map<Address, number>()
const steps: Step[] = []
const receipts = { node: new Map<string, RpcReceipt>(), anvil: new Map<string, RpcReceipt>() }
const created: Record<string, Address> = {}

async function sign(
  account: PrivateKeyAccount,
  tx: { to?: Address; data?: Hex; value?: bigint; gas: bigint; legacy?: boolean },
): Promise<Hex> {
  const nonce = nonces.get(account.address) ?? 0
  nonces.set(account.address, nonce + 1)
  const base = {
    chainId: DEV_CHAIN_ID,
    nonce,
    gas: tx.gas,
    ...(tx.to === undefined ? {} : { to: tx.to }),
    ...(tx.data === undefined ? {} : { data: tx.data }),
    value: tx.value ?? 0n,
  }
  return tx.legacy === true
    ? account.signTransaction({ ...base, type: 'legacy', gasPrice: GAS_PRICE })
    : account.signTransaction({ ...base, type: 'eip1559', maxFeePerGas: GAS_PRICE, maxPriorityFeePerGas: GAS_PRICE })
}

/** Sends one signed tx to both chains and records both receipts (from eth_getTransactionReceipt). */
async function send(name: string, raw: Hex): Promise<{ node: RpcReceipt; anvil: RpcReceipt }> {
  const hash = keccak256(raw)
  steps.push({ name, raw, hash })
  const [viaSync, anvilHash] = await Promise.all([
    rpc<RpcReceipt>(node.rpcUrl, 'eth_sendRawTransactionSync', [raw, 10_000]),
    rpc<Hex>(anvil.rpcUrl, 'eth_sendRawTransaction', [raw]),
  ])
  assert.equal(viaSync.transactionHash, hash, `${name}: node tx hash`)
  assert.equal(anvilHash, hash, `${name}: anvil tx hash`)
  const ours = await rpc<RpcReceipt>(node.rpcUrl, 'eth_getTransactionReceipt', [hash])
  const theirs = await waitFor(
    `${name}: anvil receipt`,
    () => rpc<RpcReceipt | null>(anvil.rpcUrl, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined),
    10_000,
    20,
  )
  receipts.node.set(name, ours)
  receipts.anvil.set(name, theirs)
  return { node: ours, anvil: theirs }
}

function comparable(r: RpcReceipt) {
  return {
    status: r.status,
    gasUsed: BigInt(r.gasUsed),
    effectiveGasPrice: BigInt(r.effectiveGasPrice),
    contractAddress: r.contractAddress?.toLowerCase() ?? null,
    from: r.from.toLowerCase(),
    to: r.to?.toLowerCase() ?? null,
    type: BigInt(r.type),
    logs: r.logs.map((l) => ({
      address: l.address.toLowerCase(),
      topics: l.topics.map((t) => t.toLowerCase()),
      data: l.data.toLowerCase(),
    })),
  }
}

/** Same JSON-RPC call on both; returns both answers (result or error object). */
async function both(
  method: string,
  params: unknown[],
): Promise<{
  node: { result?: unknown; error?: { code: number; message: string; data?: unknown } }
  anvil: { result?: unknown; error?: { code: number; message: string; data?: unknown } }
}> {
  const [n, a] = await Promise.all([rpcRaw(node.rpcUrl, method, params), rpcRaw(anvil.rpcUrl, method, params)])
  return { node: n, anvil: a }
}

let metricsUrl = ''

before(async () => {
  contract('Token')
  const metricsPort = await freePort()
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
  ;[node, anvil] = await Promise.all([startNode({ args: [`--metrics.port=${metricsPort}`] }), startAnvil(DEV_CHAIN_ANVIL_ARGS)])
})

after(async () => {
  await Promise.all([node?.stop(), anvil?.stop()])
})

describe('megaeth-node vs anvil: same signed txs', { timeout: 120_000 }, () => {
  test('both chains start from the same accounts', async () => {
    for (const account of [A, B]) {
      const r = await both('eth_getBalance', [account.address, 'latest'])
      assert.equal(r.node.result, r.anvil.result, `${account.address} initial balance`)
      const n = await both('eth_getTransactionCount', [account.address, 'latest'])
      assert.equal(n.node.result, '0x0', 'fresh account on megaeth-node')
      assert.equal(n.anvil.result, '0x0', 'fresh account on anvil')
    }
    const code = await both('eth_getCode', [DETERMINISTIC_DEPLOYER, 'latest'])
    assert.equal(code.node.result, code.anvil.result, 'same deterministic deployer code')
  })

  test('receipts agree step by step (transfers, ERC-20, reverts, creations, CREATE2)', async () => {
    const token = contract('Token')
    const reverter = contract('Reverter')
    const factory = contract('Factory')
    const counter = contract('Counter')

    await send('legacy transfer A→R1', await sign(A, { to: R1, value: parseEther('1'), gas: 21_000n, legacy: true }))
    await send('1559 transfer A→R2', await sign(A, { to: R2, value: parseEther('0.5'), gas: 21_000n }))
    await send('transfer with data A→R1', await sign(A, { to: R1, value: 7n, gas: 30_000n, data: '0x0102030400ff' }))

    const deployToken = await send(
      'deploy Token',
      await sign(A, {
        data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Diff', 'DIF', 10n ** 24n] }),
        gas: 2_000_000n,
      }),
    )
    created['Token'] = deployToken.node.contractAddress!
    assert.equal(created['Token'].toLowerCase(), getContractAddress({ from: A.address, nonce: 3n }).toLowerCase())
    const tokenAt = created['Token']
    await send(
      'token.transfer A→R1',
      await sign(A, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R1, 1_000n] }),
        gas: 100_000n,
      }),
    )
    await send(
      'token.approve A→B',
      await sign(A, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'approve', args: [B.address, 500n] }),
        gas: 100_000n,
      }),
    )
    await send(
      'token.transferFrom A→R2 by B',
      await sign(B, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transferFrom', args: [A.address, R2, 300n] }),
        gas: 100_000n,
      }),
    )
    const failing = await send(
      'token.transfer by B without balance (reverts)',
      await sign(B, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R1, 1n] }),
        gas: 100_000n,
      }),
    )
    assert.equal(failing.node.status, '0x0', 'the reverting transfer fails on megaeth-node')
    await send(
      'token.transfer to self (zero-value edge)',
      await sign(A, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [A.address, 0n] }),
        gas: 100_000n,
      }),
    )

    const deployReverter = await send('deploy Reverter', await sign(A, { data: reverter.bytecode, gas: 1_000_000n }))
    created['Reverter'] = deployReverter.node.contractAddress!
    await send(
      'Reverter.store ok',
      await sign(A, {
        to: created['Reverter'],
        data: encodeFunctionData({ abi: reverter.abi, functionName: 'store', args: [7n, false] }),
        gas: 100_000n,
      }),
    )
    await send(
      'Reverter.store reverting',
      await sign(A, {
        to: created['Reverter'],
        data: encodeFunctionData({ abi: reverter.abi, functionName: 'store', args: [8n, true] }),
        gas: 100_000n,
      }),
    )
    await send(
      'Reverter.assertFail (panic burns no extra gas post-Byzantium)',
      await sign(A, {
        to: created['Reverter'],
        data: encodeFunctionData({ abi: reverter.abi, functionName: 'assertFail' }),
        gas: 60_000n,
      }),
    )
    await send(
      'out of gas call',
      await sign(A, {
        to: tokenAt,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R2, 1n] }),
        gas: 25_000n,
      }),
    )

    const deployFactory = await send('deploy Factory', await sign(A, { data: factory.bytecode, gas: 1_000_000n }))
    created['Factory'] = deployFactory.node.contractAddress!
    const salt = pad('0x1234', { size: 32 })
    const create2 = await send(
      'Factory.deploy (CREATE2 from a contract)',
      await sign(A, {
        to: created['Factory'],
        data: encodeFunctionData({ abi: factory.abi, functionName: 'deploy', args: [salt, 42n] }),
        gas: 500_000n,
      }),
    )
    created['Child2'] = `0x${create2.node.logs[0]!.topics[1]!.slice(26)}`
    const plain = await send(
      'Factory.deployPlain (CREATE from a contract)',
      await sign(A, {
        to: created['Factory'],
        data: encodeFunctionData({ abi: factory.abi, functionName: 'deployPlain', args: [43n] }),
        gas: 500_000n,
      }),
    )
    created['Child1'] = `0x${plain.node.logs[0]!.topics[1]!.slice(26)}`
    await send(
      'Factory.deploy same salt again (CREATE2 collision reverts)',
      await sign(A, {
        to: created['Factory'],
        data: encodeFunctionData({ abi: factory.abi, functionName: 'deploy', args: [salt, 42n] }),
        gas: 500_000n,
      }),
    )

    const counterSalt = keccak256(toHex('differential'))
    await send(
      'deterministic deployer CREATE2',
      await sign(B, { to: DETERMINISTIC_DEPLOYER, data: concat([counterSalt, counter.bytecode]), gas: 500_000n }),
    )
    created['Counter'] = getContractAddress({
      opcode: 'CREATE2',
      from: DETERMINISTIC_DEPLOYER,
      salt: counterSalt,
      bytecode: counter.bytecode,
    })
    await send('contract creation with empty init code', await sign(B, { data: '0x', gas: 60_000n }))
    await send('self-transfer with value', await sign(B, { to: B.address, value: 5n, gas: 21_000n }))

    const mismatches: string[] = []
    for (const step of steps) {
      const ours = comparable(receipts.node.get(step.name)!)
      const theirs = comparable(receipts.anvil.get(step.name)!)
      try {
        assert.deepEqual(ours, theirs)
      } catch {
        mismatches.push(
          `${step.name}:\n  megaeth-node ${JSON.stringify(ours, bigintJson)}\n  anvil        ${JSON.stringify(theirs, bigintJson)}`,
        )
      }
    }
    assert.deepEqual(mismatches, [], `receipts differ:\n${mismatches.join('\n')}`)
    // Sanity: the sequence really exercised failures and creations, and plain transfers took the
    // node's native path (no interpreter) while anvil ran them through revm.
    assert.ok(
      steps.some((s) => receipts.node.get(s.name)!.status === '0x0'),
      'some steps reverted',
    )
    assert.ok(steps.filter((s) => receipts.node.get(s.name)!.contractAddress !== null).length >= 4, 'several contract creations')
    const metrics = await (await fetch(metricsUrl)).text()
    const native = /^megaeth_native_transfers_total(?:\{[^}]*\})? (\S+)$/m.exec(metrics)
    assert.ok(native !== null && Number(native[1]) >= 2, `native transfers: ${native?.[1]}`)
    // The node ran on its default live state (accounts on disk behind --cache): the genesis accounts were read from
    // LevelDB on first use, so everything compared here went through the disk-backed reads.
    const misses = /^megaeth_state_cache_misses_total\{[^}]*kind="account"[^}]*\} (\S+)$/m.exec(metrics)
    assert.ok(misses !== null && Number(misses[1]) >= 1, `account reads from the store: ${misses?.[1]}`)
  })

  test('final state agrees: balances, nonces, code, storage, storage roots', async () => {
    assert.ok(created['Token'] !== undefined, 'the receipts step ran')
    const token = contract('Token')
    const addresses = [A.address, B.address, R1, R2, ...Object.values(created)]
    const slots = [0n, 1n, 2n, 3n, 4n].map((s) => toHex(s))
    // Mapping slots: balanceOf (3) of each party, allowance (4) of A→B.
    for (const who of [A.address, B.address, R1, R2])
      slots.push(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [who, 3n])))
    const inner = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [A.address, 4n]))
    slots.push(keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'bytes32' }], [B.address, inner])))

    for (const address of addresses) {
      for (const method of ['eth_getBalance', 'eth_getTransactionCount', 'eth_getCode'] as const) {
        const r = await both(method, [address, 'latest'])
        assert.equal(r.node.result, r.anvil.result, `${method}(${address})`)
      }
    }
    for (const address of [created['Token']!, created['Reverter']!]) {
      for (const slot of slots) {
        const r = await both('eth_getStorageAt', [address, slot, 'latest'])
        assert.equal(r.node.result, r.anvil.result, `storage ${address}[${slot}]`)
      }
    }
    const balances = await Promise.all(
      [A.address, B.address, R1, R2].map(async (who) =>
        both('eth_call', [
          { to: created['Token'], data: encodeFunctionData({ abi: token.abi, functionName: 'balanceOf', args: [who] }) },
          'latest',
        ]),
      ),
    )
    for (const r of balances) assert.equal(r.node.result, r.anvil.result, 'token balanceOf')
    assert.equal(BigInt(balances[2]!.node.result as Hex), 1_000n)
    assert.equal(BigInt(balances[3]!.node.result as Hex), 300n)

    // Storage roots (and account fields) via eth_getProof: our merkleizer vs anvil's. Proofs are
    // served at the sealed head, so first wait until the last tx's EVM block is sealed.
    const last = steps[steps.length - 1]!.hash
    await waitFor(
      'the last tx to be sealed',
      async () =>
        unsealedBlockNumber((await rpc<RpcReceipt>(node.rpcUrl, 'eth_getTransactionReceipt', [last])).blockHash as Hex) ===
        undefined,
      10_000,
      50,
    )
    const proofs = await waitFor(
      'megaeth-node proofs at the sealed head',
      async () => {
        const head = await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')
        const out = []
        for (const address of Object.values(created)) {
          const r = await rpcRaw<{ storageHash: Hex; codeHash: Hex; nonce: Hex; balance: Hex }>(node.rpcUrl, 'eth_getProof', [
            address,
            [],
            head,
          ])
          if (r.error !== undefined) return undefined
          out.push({ address, proof: r.result! })
        }
        return out
      },
      10_000,
      50,
    )
    for (const { address, proof } of proofs) {
      const theirs = await rpc<{ storageHash: Hex; codeHash: Hex; nonce: Hex; balance: Hex }>(anvil.rpcUrl, 'eth_getProof', [
        address,
        [],
        'latest',
      ])
      assert.equal(proof.storageHash, theirs.storageHash, `storageHash of ${address}`)
      assert.equal(proof.codeHash, theirs.codeHash, `codeHash of ${address}`)
      assert.equal(BigInt(proof.nonce), BigInt(theirs.nonce), `nonce of ${address}`)
      assert.equal(BigInt(proof.balance), BigInt(theirs.balance), `balance of ${address}`)
    }
  })

  test('eth_call results and revert errors agree', async () => {
    assert.ok(created['Token'] !== undefined, 'the receipts step ran')
    const token = contract('Token')
    const reverter = contract('Reverter')
    const factory = contract('Factory')
    const calls: Array<{ label: string; call: Record<string, unknown> }> = [
      { label: 'name', call: { to: created['Token'], data: encodeFunctionData({ abi: token.abi, functionName: 'name' }) } },
      {
        label: 'totalSupply',
        call: { to: created['Token'], data: encodeFunctionData({ abi: token.abi, functionName: 'totalSupply' }) },
      },
      {
        label: 'allowance',
        call: {
          to: created['Token'],
          data: encodeFunctionData({ abi: token.abi, functionName: 'allowance', args: [A.address, B.address] }),
        },
      },
      {
        label: 'Reverter.value',
        call: { to: created['Reverter'], data: encodeFunctionData({ abi: reverter.abi, functionName: 'value' }) },
      },
      {
        label: 'Factory.predict',
        call: {
          to: created['Factory'],
          data: encodeFunctionData({ abi: factory.abi, functionName: 'predict', args: [pad('0x1234', { size: 32 }), 42n] }),
        },
      },
      {
        label: 'Child.tag',
        call: { to: created['Child2'], data: encodeFunctionData({ abi: contract('Child').abi, functionName: 'tag' }) },
      },
      {
        label: 'Child.creator',
        call: { to: created['Child1'], data: encodeFunctionData({ abi: contract('Child').abi, functionName: 'creator' }) },
      },
      {
        label: 'deployer dry run',
        call: {
          from: A.address,
          to: DETERMINISTIC_DEPLOYER,
          data: concat([pad('0x99', { size: 32 }), contract('Child').bytecode, encodeAbiParameters([{ type: 'uint256' }], [1n])]),
        },
      },
      {
        label: 'revert reason',
        call: { to: created['Reverter'], data: encodeFunctionData({ abi: reverter.abi, functionName: 'revertWithReason' }) },
      },
      {
        label: 'custom error',
        call: {
          from: A.address,
          to: created['Reverter'],
          data: encodeFunctionData({ abi: reverter.abi, functionName: 'revertCustom', args: [3n] }),
        },
      },
      {
        label: 'panic 0x12',
        call: {
          to: created['Reverter'],
          data: encodeFunctionData({ abi: reverter.abi, functionName: 'divide', args: [1n, 0n] }),
        },
      },
      {
        label: 'empty revert',
        call: { to: created['Reverter'], data: encodeFunctionData({ abi: reverter.abi, functionName: 'revertEmpty' }) },
      },
      {
        label: 'token transfer too much',
        call: {
          from: B.address,
          to: created['Token'],
          data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R1, 10n ** 30n] }),
        },
      },
      { label: 'call to an EOA', call: { to: R1, data: '0x12345678' } },
    ]
    for (const { label, call } of calls) {
      const r = await both('eth_call', [call, 'latest'])
      if (r.anvil.error === undefined) {
        assert.equal(
          r.node.error,
          undefined,
          `${label}: anvil succeeded but megaeth-node failed: ${JSON.stringify(r.node.error)}`,
        )
        assert.equal(r.node.result, r.anvil.result, `${label}: eth_call result`)
      } else {
        assert.ok(
          r.node.error !== undefined,
          `${label}: anvil failed (${r.anvil.error.message}) but megaeth-node returned ${String(r.node.result)}`,
        )
        assert.equal(r.node.error.code, r.anvil.error.code, `${label}: error code`)
        assert.equal(r.node.error.data ?? '0x', r.anvil.error.data ?? '0x', `${label}: revert data`)
        const data = (r.anvil.error.data ?? '0x') as string
        if (data === '0x' || data.startsWith('0x08c379a0')) {
          // Error(string) or no data: both say `execution reverted[: <reason>]` (geth's wording).
          assert.equal(r.node.error.message, r.anvil.error.message, `${label}: error message`)
        } else {
          // Custom errors and panics: the wording is implementation-specific (anvil spells out the
          // selector); the code and the data above are what clients decode.
          assert.match(r.node.error.message, /^execution reverted/, `${label}: error message`)
        }
      }
    }
  })

  test('eth_estimateGas agrees (exact for transfers; within the 1.5 % search tolerance for contract calls)', async (t) => {
    assert.ok(created['Token'] !== undefined, 'the receipts step ran')
    const token = contract('Token')
    const factory = contract('Factory')
    const cases: Array<{ label: string; call: Record<string, unknown>; exact?: boolean }> = [
      { label: 'plain transfer', call: { from: A.address, to: R1, value: '0x1' }, exact: true },
      { label: 'transfer with data', call: { from: A.address, to: R1, data: '0x0102030400ff' }, exact: true },
      {
        label: 'token transfer',
        call: {
          from: A.address,
          to: created['Token'],
          data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R1, 5n] }),
        },
      },
      {
        label: 'token approve',
        call: {
          from: A.address,
          to: created['Token'],
          data: encodeFunctionData({ abi: token.abi, functionName: 'approve', args: [R2, 5n] }),
        },
      },
      {
        label: 'factory CREATE2',
        call: {
          from: A.address,
          to: created['Factory'],
          data: encodeFunctionData({ abi: factory.abi, functionName: 'deploy', args: [pad('0x77', { size: 32 }), 1n] }),
        },
      },
      {
        label: 'deploy Token',
        call: { from: A.address, data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['X', 'X', 1n] }) },
      },
    ]
    const report: string[] = []
    for (const { label, call, exact } of cases) {
      const r = await both('eth_estimateGas', [call, 'latest'])
      assert.equal(r.node.error, undefined, `${label}: megaeth-node estimate failed: ${JSON.stringify(r.node.error)}`)
      assert.equal(r.anvil.error, undefined, `${label}: anvil estimate failed: ${JSON.stringify(r.anvil.error)}`)
      const ours = BigInt(r.node.result as Hex)
      const theirs = BigInt(r.anvil.result as Hex)
      report.push(`${label}: megaeth-node ${ours}, anvil ${theirs}`)
      if (exact === true) assert.equal(ours, theirs, `${label}: estimate`)
      else {
        // Both must be enough to succeed; ours may stop up to 1.5 % above the minimum (geth's tolerance).
        assert.ok(ours >= theirs, `${label}: megaeth-node estimate ${ours} below anvil's ${theirs} (would it run out of gas?)`)
        assert.ok(
          ours * 1000n <= theirs * 1015n,
          `${label}: megaeth-node estimate ${ours} more than 1.5 % above anvil's ${theirs}`,
        )
      }
    }
    t.diagnostic(report.join('; '))
    const reverting = await both('eth_estimateGas', [
      {
        from: B.address,
        to: created['Token'],
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [R1, 10n ** 30n] }),
      },
      'latest',
    ])
    assert.ok(reverting.node.error !== undefined && reverting.anvil.error !== undefined, 'a reverting estimate fails on both')
    assert.equal(reverting.node.error.code, reverting.anvil.error.code, 'reverting estimate: error code')
    assert.equal(reverting.node.error.data, reverting.anvil.error.data, 'reverting estimate: revert data')
  })
})

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
