// run-tests: pair — one anvil answering view calls: no load, no assertion on time
/**
 * The Solidity EVM interpreter (contracts/L1/EvmInterpreter.sol, issue 18) on a real anvil, differentially against
 * ethereumjs with the chain's Common (test/helpers/evm-reference.ts): every named workload and a few hundred seeded
 * random programs run through `execute` as a view call and must give exactly ethereumjs's result (success, gas left,
 * refund, return data, logs, accounts, slots, touched where it matters); a missing table entry reverts Missing*; the
 * runtime fits EIP-170; L1 gas per L2 gas is reported for an ERC-20 transfer, a deployment, an AMM swap, deep
 * recursion and worst-case straight-line code and loops (each must fit one L1 transaction). Precompile workloads are
 * not here: the interpreter runs against the deployer's EOA as its precompiles contract, so no case calls one.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type Address,
  type Hex,
  createWalletClient,
  decodeFunctionResult,
  encodeFunctionData,
  getContractAddress,
  http,
  publicActions,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  evmInterpreterAbi,
  evmInterpreterBytecode,
  evmInterpreterDeployedBytecode,
} from '../../src/bridge/generated/EvmInterpreter.ts'
import {
  type EvmResultArg,
  type InterpreterArgs,
  type ReferenceCase,
  diffResults,
  runReference,
} from '../helpers/evm-reference.ts'
import { ALICE, C1, randomProgramCases, workloadCases } from '../helpers/evm-workloads.ts'
import { type AsmItem, asm } from '../helpers/evm-asm.ts'
import { type AnvilHandle, DEV_KEYS, startAnvil } from '../helpers/node-process.ts'

const account = privateKeyToAccount(DEV_KEYS[0]!)
const CALL_GAS = 1_000_000_000n

let anvil: AnvilHandle
let client: ReturnType<typeof createWalletClient> & ReturnType<typeof publicActions>
let interpreter: Address

before(async () => {
  anvil = await startAnvil(['--quiet', '--gas-limit', String(CALL_GAS)])
  client = createWalletClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }), account }).extend(publicActions)
  // No precompiles contract yet (another engineer's): the deployer's EOA stands in; no case here calls a precompile.
  const hash = await client.deployContract({
    chain: null,
    account,
    abi: evmInterpreterAbi,
    bytecode: evmInterpreterBytecode,
    args: [account.address],
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  assert.ok(receipt.contractAddress)
  interpreter = receipt.contractAddress
})

after(async () => {
  await anvil?.stop()
})

function argsOf(a: InterpreterArgs) {
  return [a.block, a.message, a.accounts, a.slots, a.blockHashes] as const
}

async function execute(a: InterpreterArgs): Promise<EvmResultArg> {
  const { data } = await client.call({ to: interpreter, data: calldata(a), gas: CALL_GAS })
  const r = decodeFunctionResult({ abi: evmInterpreterAbi, functionName: 'execute', data: data ?? '0x' })
  return r as unknown as EvmResultArg
}

function calldata(a: InterpreterArgs): Hex {
  return encodeFunctionData({ abi: evmInterpreterAbi, functionName: 'execute', args: argsOf(a) as never })
}

async function l1Gas(a: InterpreterArgs): Promise<bigint> {
  return client.estimateGas({
    account: account.address,
    to: interpreter,
    data: calldata(a),
    gas: CALL_GAS,
  })
}

/** Runs `cases` through the interpreter; returns one line per case that differs from ethereumjs. */
async function differences(cases: ReferenceCase[]): Promise<string[]> {
  const failures: string[] = []
  for (const c of cases) {
    const run = await runReference(c)
    let diffs: string[]
    try {
      diffs = diffResults(await execute(run.args), run.expected)
    } catch (err) {
      diffs = [`reverted: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`]
    }
    if (diffs.length > 0) failures.push(`${c.name}: ${diffs.join('; ')}`)
  }
  return failures
}

describe('EvmInterpreter against ethereumjs', () => {
  it('fits EIP-170', () => {
    const size = (evmInterpreterDeployedBytecode.length - 2) / 2
    console.log(`EvmInterpreter runtime: ${size} bytes`)
    assert.ok(size <= 24_576, `${size} bytes`)
  })

  it('every named workload gives ethereumjs result', async () => {
    const failures = await differences(workloadCases())
    assert.deepEqual(failures, [])
  })

  it('300 random programs give ethereumjs result', async () => {
    const failures = await differences(randomProgramCases(4242, 300))
    assert.deepEqual(failures, [])
  })

  it('edge cases found while testing differentially give ethereumjs result', async () => {
    const H2 = '0x4200000000000000000000000000000000000002'
    const target = getContractAddress({ from: C1, nonce: 1n })
    const mk = (name: string, text: string, gas = 100_000n): ReferenceCase => ({
      name,
      pre: [
        { address: ALICE, balance: 10n ** 18n },
        { address: C1, code: asm(text), nonce: 1n, storage: { '0x05': '0x07' } },
        { address: H2, code: '0x6001600101' },
      ],
      message: { caller: ALICE, to: C1, gas },
    })
    const failures = await differences([
      // ethereumjs warms a CREATE's address only when the creation message starts, not on a fail-fast
      mk('CREATE without the balance leaves its address cold', `1 0 0x1000 CREATE POP ${target} BALANCE POP GAS 0 SSTORE`),
      mk(
        'CREATE of EOF initcode leaves its address cold',
        `0xef00 0 MSTORE 2 30 0 CREATE POP ${target} BALANCE POP GAS 0 SSTORE`,
      ),
      mk('CREATE warms its address', `0 0 0 CREATE POP ${target} BALANCE POP GAS 0 SSTORE`),
      // ethereumjs runs out of gas before it reads the account or slot: the tables lack them
      mk('EXTCODECOPY out of gas on memory', `0x100000 0 0 ${H2} EXTCODECOPY`),
      mk('EXTCODECOPY out of gas on the cold access', `0x40 0 0 ${H2} EXTCODECOPY`, 2_610n),
      mk('EXTCODESIZE out of gas on the cold access', `${H2} EXTCODESIZE`, 2_000n),
      mk('SLOAD out of gas on a cold slot', '9 SLOAD', 2_000n),
      mk('SLOAD of a cold slot', '5 SLOAD 0 SSTORE'),
    ])
    assert.deepEqual(failures, [])
  })

  it('a slot the tables lack reverts MissingSlot', async () => {
    const run = await runReference({
      name: 'sload',
      pre: [
        { address: ALICE, balance: 10n ** 18n },
        { address: C1, code: asm(5, 'SLOAD', 'STOP') },
      ],
      message: { caller: ALICE, to: C1 },
    })
    await assert.rejects(execute({ ...run.args, slots: [] }), (err: Error) => /MissingSlot|0xd90c619a/.test(err.message))
    const withoutC1 = run.args.accounts.filter((a) => a.addr.toLowerCase() !== C1.toLowerCase())
    await assert.rejects(execute({ ...run.args, accounts: withoutC1 }), (err: Error) =>
      /MissingAccount|0x99edaf79/.test(err.message),
    )
  })
})

describe('EvmInterpreter L1 gas', () => {
  it('reports L1 gas per L2 gas', async () => {
    const named = new Map(workloadCases().map((c) => [c.name, c]))
    const loop = (...body: AsmItem[]): Hex => asm({ label: 'top' }, ...body, { ref: 'top' }, 'JUMP')
    const loops: ReferenceCase[] = (
      [
        ['JUMPDEST loop', loop()],
        ['PUSH1/POP loop', loop({ push: '0x01' }, 'POP')],
        ['MSTORE loop', loop({ push: '0x01' }, { push: '0x00' }, 'MSTORE')],
        ['SLOAD (warm) loop', loop({ push: '0x01' }, 'SLOAD', 'POP')],
        ['20,000 JUMPDESTs', asm(...Array.from({ length: 20_000 }, () => 'JUMPDEST'))],
        ['10,000 PC/POP pairs', asm(...Array.from({ length: 10_000 }, () => ['PC', 'POP']).flat())],
        ['10,000 CALLDATALOAD/POP pairs', asm(...Array.from({ length: 10_000 }, () => [0, 'CALLDATALOAD', 'POP']).flat())],
      ] as const
    ).map(([name, code]) => ({
      name,
      pre: [
        { address: ALICE, balance: 10n ** 18n },
        { address: C1, code },
      ],
      message: { caller: ALICE, to: C1, gas: 100_000n },
    }))
    const picks = [...named.keys()]
      .filter((n) => /^erc20: (transfer to a holder|deploy)|amm: swap token0|calls: recursion as deep/.test(n))
      .slice(0, 4)
    for (const c of [...picks.map((n) => named.get(n)!), ...loops]) {
      const run = await runReference(c)
      const l2 = run.args.message.gas - run.expected.gasLeft
      const l1 = await l1Gas(run.args)
      console.log(`${c.name}: L2 gas ${l2}, L1 gas ${l1}, ${(Number(l1) / Number(l2)).toFixed(1)} L1 per L2`)
      // One L1 transaction (16,777,216 gas) must hold what the lead sizes L2 transactions by: every case here does.
      assert.ok(l1 < 16_777_216n, `${c.name}: ${l1} L1 gas`)
    }
  })
})
