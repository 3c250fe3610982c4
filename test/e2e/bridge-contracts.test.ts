// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The bridge contracts on a real anvil, driven by viem's `viem/op-stack` actions unmodified: deployment through
 * `deployL1Contracts`, deposits (EOA, contract → aliased, EIP-7702 delegated EOA → not aliased, `receive()`,
 * creation), the portal's limits and custom errors, the guardian's pause, SystemConfig's `ConfigUpdate` logs decoded
 * as derivation will decode them, and the L2 predeploys installed from `l2PredeployAlloc()`: withdrawals recorded at
 * the slot the portal will prove, L1 attributes written only by the depositor account with OP's packed calldata.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BaseError,
  concat,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  decodeAbiParameters,
  decodeEventLog,
  encodeAbiParameters,
  encodeFunctionData,
  encodePacked,
  getAddress,
  hexToBigInt,
  http,
  keccak256,
  pad,
  parseEther,
  toFunctionSelector,
  toHex,
  zeroAddress,
  type Abi,
  type Address,
  type Hex,
  type Log,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import {
  chainConfig,
  extractTransactionDepositedLogs,
  getL2TransactionHashes,
  getWithdrawalHashStorageSlot,
  getWithdrawals,
  opaqueDataToDepositData,
  publicActionsL1,
  serializeTransaction,
  walletActionsL1,
  walletActionsL2,
} from 'viem/op-stack'
import {
  batchInboxAddress,
  batcherHash,
  deployL1Contracts,
  DEPOSITOR_ACCOUNT,
  l1BlockAbi,
  L1_BLOCK_ADDRESS,
  l2PredeployAlloc,
  l2ToL1MessagePasserAbi,
  L2_TO_L1_MESSAGE_PASSER_ADDRESS,
  optimismPortal2Abi,
  readDepositEvents,
  superchainConfigAbi,
  systemConfigAbi,
  type Deposit,
  type L1Deployment,
} from '../../src/bridge/index.ts'
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { DEV_KEYS, startAnvil, type AnvilHandle } from '../helpers/node-process.ts'

const L2_CHAIN_ID = 6342n
const ALIAS_OFFSET = 0x1111000000000000000000000000000000001111n
const deployer = privateKeyToAccount(DEV_KEYS[0]!)
const guardian = privateKeyToAccount(DEV_KEYS[1]!)
const owner = privateKeyToAccount(DEV_KEYS[2]!)
const user = privateKeyToAccount(DEV_KEYS[3]!)
const delegator = privateKeyToAccount(DEV_KEYS[4]!)
const batcher = privateKeyToAccount(DEV_KEYS[5]!).address
const unsafeBlockSigner = privateKeyToAccount(DEV_KEYS[6]!).address
const recipient: Address = '0x1111111111111111111111111111111111111111'

let anvil: AnvilHandle
let deployment: L1Deployment
let forwarder: { address: Address; abi: Abi }

function clients(rpcUrl: string) {
  const transport = http(rpcUrl)
  // The same anvil plays the L2 for the predeploys: give its chain OP's predeploy addresses, as viem's OP chains have.
  const chain = { ...foundry, contracts: chainConfig.contracts }
  return {
    public: createPublicClient({ chain, transport }).extend(publicActionsL1()),
    wallet: createWalletClient({ chain, transport }).extend(walletActionsL1()).extend(walletActionsL2()),
    test: createTestClient({ chain, transport, mode: 'anvil' }),
  }
}
let c: ReturnType<typeof clients>

async function mined(hash: Hex): Promise<TransactionReceipt> {
  const receipt = await c.public.waitForTransactionReceipt({ hash })
  assert.equal(receipt.status, 'success', `transaction ${hash} reverted`)
  return receipt
}

/** The custom error a simulated call reverts with (decoded with `abi`). */
async function revertName(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName ?? reverted.signature
    throw err
  }
  assert.fail('the call did not revert')
}

/** Simulates `depositTransaction` from `user` and returns the custom error it reverts with. */
function depositRevert(args: { to: Address; gas: bigint; isCreation?: boolean; data: Hex }): Promise<string | undefined> {
  return revertName(
    c.public.simulateContract({
      account: user,
      address: deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'depositTransaction',
      args: [args.to, 0n, args.gas, args.isCreation ?? false, args.data],
    }),
  )
}

/**
 * Checks the deposits of a receipt three ways: our decoder gives `expected`, viem's log extraction and opaque-data
 * parser give the same fields, and viem's L2 transaction hash is the hash of the deposit transaction built from our
 * decoding (so derivation and viem's `getL2TransactionHashes` will name the same L2 transaction).
 */
function assertDeposits(
  receipt: TransactionReceipt,
  expected: Array<Omit<Deposit, 'sourceHash' | 'l1BlockHash' | 'logIndex'>>,
): Deposit[] {
  const ours = readDepositEvents(receipt.logs, deployment.optimismPortal)
  assert.deepEqual(
    ours.map(({ sourceHash: _s, l1BlockHash: _h, logIndex: _i, ...rest }) => rest),
    expected,
  )
  const viemLogs = extractTransactionDepositedLogs({ logs: receipt.logs as Log[] })
  assert.equal(viemLogs.length, ours.length)
  const l2Hashes = getL2TransactionHashes(receipt)
  ours.forEach((deposit, i) => {
    const viemLog = viemLogs[i]!
    const viemData = opaqueDataToDepositData(viemLog.args.opaqueData!)
    assert.equal(getAddress(viemLog.args.from!), deposit.from)
    assert.deepEqual(
      { mint: viemData.mint, value: viemData.value, gas: viemData.gas, isCreation: viemData.isCreation, data: viemData.data },
      { mint: deposit.mint, value: deposit.value, gas: deposit.gasLimit, isCreation: deposit.isCreation, data: deposit.data },
    )
    assert.equal(deposit.l1BlockHash, receipt.blockHash)
    assert.equal(deposit.logIndex, viemLog.logIndex)
    const l2Tx = serializeTransaction({
      type: 'deposit',
      sourceHash: deposit.sourceHash,
      from: deposit.from,
      ...(deposit.to === null ? {} : { to: deposit.to }),
      mint: deposit.mint,
      value: deposit.value,
      gas: deposit.gasLimit,
      isSystemTx: false,
      data: deposit.data,
    })
    assert.equal(keccak256(l2Tx), l2Hashes[i], `deposit ${i}: L2 transaction hash`)
  })
  return ours
}

before(async () => {
  anvil = await startAnvil(['--quiet'])
  c = clients(anvil.rpcUrl)
  deployment = await deployL1Contracts({
    l1Client: c.wallet,
    deployer,
    params: {
      l2ChainId: L2_CHAIN_ID,
      guardian: guardian.address,
      owner: owner.address,
      batcher,
      unsafeBlockSigner,
      gasLimit: 2_000_000_000n,
      basefeeScalar: 1368,
      blobbasefeeScalar: 810_949,
    },
  })
  const [compiled] = compileFiles(['test/Forwarder.sol'], 'cancun')
  const hash = await c.wallet.deployContract({ account: user, chain: null, abi: compiled!.abi, bytecode: compiled!.bytecode })
  forwarder = { address: (await mined(hash)).contractAddress!, abi: compiled!.abi }
})

after(async () => {
  await anvil?.stop()
})

describe('deployL1Contracts', () => {
  test('wires the three contracts together and records the configuration', async () => {
    const read = <T>(address: Address, abi: Abi, functionName: string) =>
      c.public.readContract({ address, abi, functionName }) as Promise<T>
    const sc = deployment.systemConfig
    assert.equal(deployment.batchInbox, batchInboxAddress(L2_CHAIN_ID))
    assert.equal(await read(sc, systemConfigAbi, 'batchInbox'), deployment.batchInbox)
    assert.equal(await read(sc, systemConfigAbi, 'startBlock'), deployment.startBlock)
    assert.equal(await read(sc, systemConfigAbi, 'optimismPortal'), deployment.optimismPortal)
    assert.equal(await read(sc, systemConfigAbi, 'superchainConfig'), deployment.superchainConfig)
    assert.equal(await read(sc, systemConfigAbi, 'disputeGameFactory'), zeroAddress)
    assert.equal(await read(sc, systemConfigAbi, 'l2ChainId'), L2_CHAIN_ID)
    assert.equal(await read(sc, systemConfigAbi, 'owner'), owner.address)
    assert.equal(await read(sc, systemConfigAbi, 'guardian'), guardian.address)
    assert.equal(await read(sc, systemConfigAbi, 'batcherHash'), batcherHash(batcher))
    assert.equal(await read(sc, systemConfigAbi, 'gasLimit'), 2_000_000_000n)
    assert.equal(await read(sc, systemConfigAbi, 'unsafeBlockSigner'), unsafeBlockSigner)
    // op-node reads the signer with a storage proof at OP's fixed slot.
    const signerSlot = await c.public.getStorageAt({ address: sc, slot: keccak256(toHex('systemconfig.unsafeblocksigner')) })
    assert.equal(signerSlot, pad(unsafeBlockSigner.toLowerCase() as Hex, { size: 32 }))
    assert.equal(await read(deployment.optimismPortal, optimismPortal2Abi, 'guardian'), guardian.address)
    assert.deepEqual(await c.public.getPortalVersion({ portalAddress: deployment.optimismPortal }), {
      major: 3,
      minor: 0,
      patch: 0,
    })
  })

  test('the deployment logs the initial configuration as ConfigUpdates, in UpdateType order', async () => {
    const updates = await configUpdates(deployment.startBlock)
    assert.deepEqual(
      updates.map((u) => u.updateType),
      [0n, 1n, 2n, 3n],
    )
    assert.deepEqual(decodeAbiParameters([{ type: 'bytes32' }], updates[0]!.data), [batcherHash(batcher)])
    const [overhead, scalar] = decodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], updates[1]!.data)
    assert.equal(overhead, 0n)
    assert.deepEqual(ecotoneScalars(scalar), { version: 1n, blobbasefeeScalar: 810_949n, basefeeScalar: 1368n })
    assert.deepEqual(decodeAbiParameters([{ type: 'uint64' }], updates[2]!.data), [2_000_000_000n])
    assert.deepEqual(decodeAbiParameters([{ type: 'address' }], updates[3]!.data), [unsafeBlockSigner])
  })
})

describe('deposits through viem’s depositTransaction', () => {
  test('from an EOA: the event carries the sender unaliased and OP’s opaqueData', async () => {
    const hash = await c.wallet.depositTransaction({
      account: user,
      chain: null,
      portalAddress: deployment.optimismPortal,
      request: { to: recipient, mint: parseEther('1'), value: parseEther('0.25'), gas: 50_000n, data: '0xabcdef' },
    })
    const receipt = await mined(hash)
    assertDeposits(receipt, [
      {
        from: user.address,
        to: recipient,
        mint: parseEther('1'),
        value: parseEther('0.25'),
        gasLimit: 50_000n,
        isCreation: false,
        data: '0xabcdef',
      },
    ])
    assert.equal(await c.public.getBalance({ address: deployment.optimismPortal }), parseEther('1'))
  })

  test('from a contract: the L2 sender is the aliased address', async () => {
    const data = encodeFunctionData({
      abi: optimismPortal2Abi,
      functionName: 'depositTransaction',
      args: [recipient, 7n, 30_000n, false, '0x01'],
    })
    const hash = await c.wallet.writeContract({
      account: user,
      chain: null,
      address: forwarder.address,
      abi: forwarder.abi,
      functionName: 'forward',
      args: [deployment.optimismPortal, data],
      value: 7n,
    })
    const aliased = getAddress(toHex((hexToBigInt(forwarder.address) + ALIAS_OFFSET) % 2n ** 160n, { size: 20 }))
    assertDeposits(await mined(hash), [
      { from: aliased, to: recipient, mint: 7n, value: 7n, gasLimit: 30_000n, isCreation: false, data: '0x01' },
    ])
  })

  test('from an EIP-7702 delegated EOA called by another account: not aliased (the key still controls it)', async () => {
    const authorization = await c.wallet.signAuthorization({ account: delegator, contractAddress: forwarder.address })
    const data = encodeFunctionData({
      abi: optimismPortal2Abi,
      functionName: 'depositTransaction',
      args: [recipient, 0n, 21_000n, false, '0x'],
    })
    const hash = await c.wallet.writeContract({
      account: user,
      chain: null,
      address: delegator.address,
      abi: forwarder.abi,
      functionName: 'forward',
      args: [deployment.optimismPortal, data],
      authorizationList: [authorization],
    })
    const receipt = await mined(hash)
    assert.equal(
      await c.public.getCode({ address: delegator.address }),
      concat(['0xef0100', forwarder.address.toLowerCase() as Hex]),
    )
    assertDeposits(receipt, [
      { from: delegator.address, to: recipient, mint: 0n, value: 0n, gasLimit: 21_000n, isCreation: false, data: '0x' },
    ])
  })

  test('ETH sent to receive() deposits to the sender with a 100,000 gas limit', async () => {
    const hash = await c.wallet.sendTransaction({ account: user, chain: null, to: deployment.optimismPortal, value: 12_345n })
    assertDeposits(await mined(hash), [
      { from: user.address, to: user.address, mint: 12_345n, value: 12_345n, gasLimit: 100_000n, isCreation: false, data: '0x' },
    ])
  })

  test('a creation deposit has no recipient; one that names a recipient reverts with OptimismPortal_BadTarget', async () => {
    const initCode: Hex = '0x600a600c600039600a6000f3602a60005260206000f3'
    const hash = await c.wallet.depositTransaction({
      account: user,
      chain: null,
      portalAddress: deployment.optimismPortal,
      request: { isCreation: true, gas: 100_000n, data: initCode },
    })
    assertDeposits(await mined(hash), [
      { from: user.address, to: null, mint: 0n, value: 0n, gasLimit: 100_000n, isCreation: true, data: initCode },
    ])
    assert.equal(
      await depositRevert({ to: recipient, gas: 100_000n, isCreation: true, data: initCode }),
      'OptimismPortal_BadTarget',
    )
  })

  test('the minimum gas limit is 21,000 + 40 per data byte', async () => {
    const data = toHex(new Uint8Array(100).fill(1))
    const minimum = await c.public.readContract({
      address: deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'minimumGasLimit',
      args: [100n],
    })
    assert.equal(minimum, 25_000n)
    assert.equal(await depositRevert({ to: recipient, gas: 24_999n, data }), 'OptimismPortal_GasLimitTooLow')
    assert.equal(await depositRevert({ to: recipient, gas: 20_999n, data: '0x' }), 'OptimismPortal_GasLimitTooLow')
    const hash = await c.wallet.depositTransaction({
      account: user,
      chain: null,
      portalAddress: deployment.optimismPortal,
      request: { to: recipient, gas: 25_000n, data },
    })
    assertDeposits(await mined(hash), [
      { from: user.address, to: recipient, mint: 0n, value: 0n, gasLimit: 25_000n, isCreation: false, data },
    ])
  })

  test('data is capped at 120,000 bytes: the cap passes, one byte more reverts with OptimismPortal_CalldataTooLarge', async () => {
    const atCap = toHex(new Uint8Array(120_000).fill(0xab))
    const gasAtCap = 21_000n + 40n * 120_000n
    const hash = await c.wallet.depositTransaction({
      account: user,
      chain: null,
      portalAddress: deployment.optimismPortal,
      request: { to: recipient, gas: gasAtCap, data: atCap },
    })
    const [deposit] = assertDeposits(await mined(hash), [
      { from: user.address, to: recipient, mint: 0n, value: 0n, gasLimit: gasAtCap, isCreation: false, data: atCap },
    ])
    assert.equal(deposit!.data.length, 2 + 2 * 120_000)
    const overCap = toHex(new Uint8Array(120_001).fill(0xab))
    assert.equal(await depositRevert({ to: recipient, gas: gasAtCap + 40n, data: overCap }), 'OptimismPortal_CalldataTooLarge')
  })

  test('the deposits of one L1 block buy at most 20,000,000 L2 gas together (OP’s maxResourceLimit)', async () => {
    assert.equal(await depositRevert({ to: recipient, gas: 20_000_001n, data: '0x' }), 'OptimismPortal_DepositGasExceeded')
    const deposit = (gas: bigint) =>
      c.wallet.depositTransaction({
        account: user,
        chain: null,
        portalAddress: deployment.optimismPortal,
        request: { to: recipient, gas },
        gas: 300_000n,
      })
    await c.test.setAutomine(false)
    let hashes: Hex[]
    try {
      hashes = [await deposit(15_000_000n), await deposit(5_000_000n), await deposit(1n + 21_000n)]
      await c.test.mine({ blocks: 1 })
    } finally {
      await c.test.setAutomine(true)
    }
    const receipts = await Promise.all(hashes.map((hash) => c.public.waitForTransactionReceipt({ hash })))
    assert.equal(new Set(receipts.map((r) => r.blockNumber)).size, 1, 'all three in one L1 block')
    assert.deepEqual(
      receipts.map((r) => r.status),
      ['success', 'success', 'reverted'],
    )
    const [blockNumber, bought] = await c.public.readContract({
      address: deployment.optimismPortal,
      abi: optimismPortal2Abi,
      functionName: 'depositGas',
    })
    assert.deepEqual([blockNumber, bought], [receipts[0]!.blockNumber, 20_000_000n])
    // The next L1 block starts from zero again.
    const next = await mined(await deposit(20_000_000n))
    assertDeposits(next, [
      { from: user.address, to: recipient, mint: 0n, value: 0n, gasLimit: 20_000_000n, isCreation: false, data: '0x' },
    ])
  })
})

describe('guardian pause', () => {
  test('only the guardian pauses and unpauses; as in OP, deposits go through while paused (they must not be censorable)', async () => {
    const sc = deployment.superchainConfig
    assert.equal(
      await revertName(
        c.public.simulateContract({ account: user, address: sc, abi: superchainConfigAbi, functionName: 'pause', args: ['x'] }),
      ),
      'SuperchainConfig_OnlyGuardian',
    )
    const paused = await mined(
      await c.wallet.writeContract({
        account: guardian,
        chain: null,
        address: sc,
        abi: superchainConfigAbi,
        functionName: 'pause',
        args: ['incident-42'],
      }),
    )
    const pausedEvent = decodeEventLog({ abi: superchainConfigAbi, ...paused.logs[0]! })
    assert.deepEqual(pausedEvent, { eventName: 'Paused', args: { identifier: 'incident-42' } })
    assert.equal(
      await c.public.readContract({ address: deployment.optimismPortal, abi: optimismPortal2Abi, functionName: 'paused' }),
      true,
    )
    assert.equal(
      await c.public.readContract({ address: deployment.systemConfig, abi: systemConfigAbi, functionName: 'paused' }),
      true,
    )

    const hash = await c.wallet.depositTransaction({
      account: user,
      chain: null,
      portalAddress: deployment.optimismPortal,
      request: { to: recipient, mint: 1n, gas: 21_000n },
    })
    assertDeposits(await mined(hash), [
      { from: user.address, to: recipient, mint: 1n, value: 1n, gasLimit: 21_000n, isCreation: false, data: '0x' },
    ])

    assert.equal(
      await revertName(
        c.public.simulateContract({ account: user, address: sc, abi: superchainConfigAbi, functionName: 'unpause' }),
      ),
      'SuperchainConfig_OnlyGuardian',
    )
    const unpaused = await mined(
      await c.wallet.writeContract({
        account: guardian,
        chain: null,
        address: sc,
        abi: superchainConfigAbi,
        functionName: 'unpause',
      }),
    )
    assert.equal(decodeEventLog({ abi: superchainConfigAbi, ...unpaused.logs[0]! }).eventName, 'Unpaused')
    assert.equal(
      await c.public.readContract({ address: deployment.optimismPortal, abi: optimismPortal2Abi, functionName: 'paused' }),
      false,
    )
  })
})

/** `ConfigUpdate` logs of the SystemConfig from `fromBlock`, decoded as derivation reads them: version, type, data. */
async function configUpdates(fromBlock: bigint, toBlock?: bigint): Promise<Array<{ updateType: bigint; data: Hex }>> {
  const topic = keccak256(toHex('ConfigUpdate(uint256,uint8,bytes)'))
  const logs = await c.public.getLogs({ address: deployment.systemConfig, fromBlock, toBlock: toBlock ?? 'latest' })
  return logs
    .filter((log) => log.topics[0] === topic)
    .map((log) => {
      const topics = log.topics as Hex[]
      assert.equal(topics.length, 3)
      assert.equal(hexToBigInt(topics[1]!), 0n, 'ConfigUpdate version')
      const [data] = decodeAbiParameters([{ type: 'bytes' }], log.data)
      return { updateType: hexToBigInt(topics[2]!), data }
    })
}

/** The Ecotone scalar: byte 0 version, bytes 24..27 blob base fee scalar, bytes 28..31 base fee scalar. */
function ecotoneScalars(scalar: bigint) {
  return { version: scalar >> 248n, blobbasefeeScalar: (scalar >> 32n) & 0xffffffffn, basefeeScalar: scalar & 0xffffffffn }
}

describe('SystemConfig setters', () => {
  async function set(functionName: string, args: readonly unknown[]): Promise<{ updateType: bigint; data: Hex }> {
    const receipt = await mined(
      await c.wallet.writeContract({
        account: owner,
        chain: null,
        address: deployment.systemConfig,
        abi: systemConfigAbi,
        functionName,
        args,
      } as never),
    )
    const updates = await configUpdates(receipt.blockNumber, receipt.blockNumber)
    assert.equal(updates.length, 1)
    return updates[0]!
  }

  test('each emits one ConfigUpdate with OP’s type and encoding', async () => {
    const newBatcher: Address = '0x2222222222222222222222222222222222222222'
    let u = await set('setBatcherHash', [batcherHash(newBatcher)])
    assert.equal(u.updateType, 0n)
    assert.deepEqual(decodeAbiParameters([{ type: 'bytes32' }], u.data), [pad(newBatcher, { size: 32 })])

    u = await set('setGasConfigEcotone', [1000, 2000])
    assert.equal(u.updateType, 1n)
    const [, scalar] = decodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }], u.data)
    assert.deepEqual(ecotoneScalars(scalar), { version: 1n, blobbasefeeScalar: 2000n, basefeeScalar: 1000n })

    u = await set('setGasLimit', [30_000_000n])
    assert.deepEqual([u.updateType, ...decodeAbiParameters([{ type: 'uint64' }], u.data)], [2n, 30_000_000n])

    u = await set('setUnsafeBlockSigner', [recipient])
    assert.deepEqual([u.updateType, ...decodeAbiParameters([{ type: 'address' }], u.data)], [3n, recipient])

    u = await set('setEIP1559Params', [250, 6])
    const [eip1559] = decodeAbiParameters([{ type: 'uint256' }], u.data)
    assert.deepEqual([u.updateType, eip1559 >> 32n, eip1559 & 0xffffffffn], [4n, 250n, 6n])

    u = await set('setOperatorFeeScalars', [7, 123_456_789n])
    const [operatorFee] = decodeAbiParameters([{ type: 'uint256' }], u.data)
    assert.deepEqual([u.updateType, operatorFee >> 64n, operatorFee & 0xffffffffffffffffn], [5n, 7n, 123_456_789n])

    u = await set('setMinBaseFee', [1_000_000n])
    assert.deepEqual([u.updateType, ...decodeAbiParameters([{ type: 'uint64' }], u.data)], [6n, 1_000_000n])

    u = await set('setDAFootprintGasScalar', [400])
    assert.deepEqual([u.updateType, ...decodeAbiParameters([{ type: 'uint16' }], u.data)], [7n, 400])

    const read = (functionName: string) =>
      c.public.readContract({ address: deployment.systemConfig, abi: systemConfigAbi, functionName } as never)
    assert.deepEqual(
      await Promise.all(
        [
          'basefeeScalar',
          'blobbasefeeScalar',
          'gasLimit',
          'eip1559Denominator',
          'eip1559Elasticity',
          'operatorFeeScalar',
          'operatorFeeConstant',
          'minBaseFee',
          'daFootprintGasScalar',
        ].map(read),
      ),
      [1000, 2000, 30_000_000n, 250, 6, 7, 123_456_789n, 1_000_000n, 400],
    )
  })

  test('refuses strangers and out-of-range values with custom errors', async () => {
    const simulate = (account: typeof owner, functionName: string, args: readonly unknown[]) =>
      revertName(
        c.public.simulateContract({
          account,
          address: deployment.systemConfig,
          abi: systemConfigAbi,
          functionName,
          args,
        } as never),
      )
    assert.equal(await simulate(user, 'setGasLimit', [30_000_000n]), 'SystemConfig_OnlyOwner')
    assert.equal(await simulate(user, 'transferOwnership', [user.address]), 'SystemConfig_OnlyOwner')
    assert.equal(await simulate(owner, 'setGasLimit', [20_999_999n]), 'SystemConfig_GasLimitOutOfRange')
    assert.equal(await simulate(owner, 'setGasLimit', [10_000_000_001n]), 'SystemConfig_GasLimitOutOfRange')
    assert.equal(await simulate(owner, 'setEIP1559Params', [0, 6]), 'SystemConfig_InvalidEIP1559Params')
    assert.equal(await simulate(owner, 'transferOwnership', [zeroAddress]), 'SystemConfig_ZeroOwner')
  })
})

describe('L2 predeploys from l2PredeployAlloc()', () => {
  before(async () => {
    for (const [address, account] of Object.entries(l2PredeployAlloc()) as Array<
      [Address, { code?: Hex; storage?: Record<string, string> }]
    >) {
      await c.test.setCode({ address, bytecode: account.code! })
      for (const [slot, value] of Object.entries(account.storage ?? {}))
        await c.test.setStorageAt({ address, index: slot as Hex, value: value as Hex })
    }
  })

  test('initiateWithdrawal (viem’s walletActionsL2) records the withdrawal hash at the slot the portal proves', async () => {
    const passer = L2_TO_L1_MESSAGE_PASSER_ADDRESS
    for (const [i, request] of [
      { to: recipient, gas: 100_000n, value: parseEther('0.5'), data: '0x1234' as Hex },
      { to: user.address, gas: 21_000n, value: 0n, data: '0x' as Hex },
    ].entries()) {
      const receipt = await mined(await c.wallet.initiateWithdrawal({ account: user, chain: null, request }))
      const [withdrawal] = getWithdrawals(receipt)
      const nonce = (1n << 240n) | BigInt(i)
      const expectedHash = keccak256(
        encodeAbiParameters(
          [
            { type: 'uint256' },
            { type: 'address' },
            { type: 'address' },
            { type: 'uint256' },
            { type: 'uint256' },
            { type: 'bytes' },
          ],
          [nonce, user.address, request.to, request.value, request.gas, request.data],
        ),
      )
      assert.deepEqual(withdrawal, {
        nonce,
        sender: user.address,
        target: request.to,
        value: request.value,
        gasLimit: request.gas,
        data: request.data,
        withdrawalHash: expectedHash,
      })
      const slot = getWithdrawalHashStorageSlot({ withdrawalHash: expectedHash })
      assert.equal(slot, keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint256' }], [expectedHash, 0n])))
      assert.equal(await c.public.getStorageAt({ address: passer, slot }), pad('0x01', { size: 32 }))
      assert.equal(
        await c.public.readContract({
          address: passer,
          abi: l2ToL1MessagePasserAbi,
          functionName: 'sentMessages',
          args: [expectedHash],
        }),
        true,
      )
    }
    assert.equal(
      await c.public.readContract({ address: passer, abi: l2ToL1MessagePasserAbi, functionName: 'messageNonce' }),
      (1n << 240n) | 2n,
    )
  })

  test('burn() destroys the ETH withdrawn so far', async () => {
    const passer = L2_TO_L1_MESSAGE_PASSER_ADDRESS
    const held = await c.public.getBalance({ address: passer })
    assert.ok(held > 0n)
    const receipt = await mined(
      await c.wallet.writeContract({
        account: user,
        chain: null,
        address: passer,
        abi: l2ToL1MessagePasserAbi,
        functionName: 'burn',
      }),
    )
    const burnt = receipt.logs
      .map((log) => decodeEventLog({ abi: l2ToL1MessagePasserAbi, ...log }))
      .find((e) => e.eventName === 'WithdrawerBalanceBurnt')
    assert.deepEqual(burnt?.args, { amount: held })
    assert.equal(await c.public.getBalance({ address: passer }), 0n)
  })

  test('L1Block takes the depositor’s packed Ecotone, Isthmus and Jovian calldata and rejects anyone else', async () => {
    const attributes = {
      baseFeeScalar: 1368,
      blobBaseFeeScalar: 810_949,
      sequenceNumber: 3n,
      timestamp: 1_765_000_000n,
      number: 21_000_123n,
      basefee: 7_000_000_000n,
      blobBaseFee: 1n,
      hash: keccak256(toHex('l1 block')),
      batcherHash: batcherHash(batcher),
    }
    const ecotone = concat([
      toFunctionSelector('setL1BlockValuesEcotone()'),
      encodePacked(
        ['uint32', 'uint32', 'uint64', 'uint64', 'uint64', 'uint256', 'uint256', 'bytes32', 'bytes32'],
        [
          attributes.baseFeeScalar,
          attributes.blobBaseFeeScalar,
          attributes.sequenceNumber,
          attributes.timestamp,
          attributes.number,
          attributes.basefee,
          attributes.blobBaseFee,
          attributes.hash,
          attributes.batcherHash,
        ],
      ),
    ])
    assert.equal(ecotone.slice(0, 10), '0x440a5e20')
    assert.equal((ecotone.length - 2) / 2, 164)

    assert.equal(
      await revertName(
        c.public
          .call({ account: user.address, to: L1_BLOCK_ADDRESS, data: ecotone })
          .then(() => undefined)
          .catch(decodeL1BlockError),
      ),
      'NotDepositor',
    )

    await c.test.impersonateAccount({ address: DEPOSITOR_ACCOUNT })
    await c.test.setBalance({ address: DEPOSITOR_ACCOUNT, value: parseEther('1') })
    await mined(await c.wallet.sendTransaction({ account: DEPOSITOR_ACCOUNT, chain: null, to: L1_BLOCK_ADDRESS, data: ecotone }))
    const read = (functionName: string) =>
      c.public.readContract({ address: L1_BLOCK_ADDRESS, abi: l1BlockAbi, functionName } as never)
    const names = [
      'baseFeeScalar',
      'blobBaseFeeScalar',
      'sequenceNumber',
      'timestamp',
      'number',
      'basefee',
      'blobBaseFee',
      'hash',
      'batcherHash',
    ] as const
    assert.deepEqual(
      await Promise.all(names.map(read)),
      names.map((n) => attributes[n]),
    )
    // Execution clients read the fee inputs from fixed slots: basefee 1, scalars packed in 3, blobBaseFee 7.
    const slot = (i: number) => c.public.getStorageAt({ address: L1_BLOCK_ADDRESS, slot: toHex(i, { size: 32 }) })
    assert.equal(hexToBigInt((await slot(1))!), attributes.basefee)
    assert.equal(hexToBigInt((await slot(3))!), (1368n << 96n) | (810_949n << 64n) | 3n)
    assert.equal(hexToBigInt((await slot(7))!), attributes.blobBaseFee)

    const isthmus = concat([
      toFunctionSelector('setL1BlockValuesIsthmus()'),
      ecotone.slice(10) as Hex,
      encodePacked(['uint32', 'uint64'], [9, 555n]),
    ])
    assert.equal(isthmus.slice(0, 10), '0x098999be')
    await mined(await c.wallet.sendTransaction({ account: DEPOSITOR_ACCOUNT, chain: null, to: L1_BLOCK_ADDRESS, data: isthmus }))
    assert.deepEqual(await Promise.all(['operatorFeeScalar', 'operatorFeeConstant', 'number'].map(read)), [
      9,
      555n,
      attributes.number,
    ])
    assert.equal(hexToBigInt((await slot(8))!), (9n << 64n) | 555n)

    const jovian = concat([
      toFunctionSelector('setL1BlockValuesJovian()'),
      isthmus.slice(10) as Hex,
      encodePacked(['uint16'], [400]),
    ])
    assert.equal(jovian.slice(0, 10), '0x3db6be2b')
    await mined(await c.wallet.sendTransaction({ account: DEPOSITOR_ACCOUNT, chain: null, to: L1_BLOCK_ADDRESS, data: jovian }))
    assert.deepEqual(await Promise.all(['daFootprintGasScalar', 'operatorFeeScalar', 'operatorFeeConstant'].map(read)), [
      400,
      9,
      555n,
    ])
    assert.equal(hexToBigInt((await slot(8))!), (400n << 96n) | (9n << 64n) | 555n)
    await c.test.stopImpersonatingAccount({ address: DEPOSITOR_ACCOUNT })
  })
})

/** Re-throws a raw `eth_call` revert as the decoded L1Block error, for `revertName`. */
function decodeL1BlockError(err: unknown): never {
  const data =
    err instanceof BaseError
      ? (err.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null)?.data
      : undefined
  if (data === undefined) throw err
  throw new ContractFunctionRevertedError({ abi: l1BlockAbi, data, functionName: 'setL1BlockValuesEcotone' })
}
