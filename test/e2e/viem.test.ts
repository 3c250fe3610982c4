/**
 * End to end with viem 2.56.9 against a real `megaeth-node --dev` child process: what a dApp using
 * viem does (transfers, deploys, reads, events, errors, fees, proofs) plus the realtime API
 * (mini-block and state-change subscriptions, synchronous sends).
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { MerklePatriciaTrie, verifyMerkleProof } from '@ethereumjs/mpt'
import {
  BaseError,
  ContractFunctionRevertedError,
  concat,
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  defineChain,
  encodeAbiParameters,
  encodeFunctionData,
  fromRlp,
  getContractAddress,
  hexToBigInt,
  hexToBytes,
  http,
  keccak256,
  pad,
  parseEther,
  parseEventLogs,
  toHex,
  toRlp,
  webSocket,
  type Address,
  type Hash,
  type Hex,
  type Log,
  type PublicClient,
  type TransactionReceipt,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import { contract } from '../helpers/contracts.ts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  rpc,
  rpcError,
  rpcRaw,
  startNode,
  waitFor,
  WsRpc,
  type NodeHandle,
} from '../helpers/node-process.ts'
import { unsealedBlockNumber } from '../../src/rpc/eth/format.ts'

const DETERMINISTIC_DEPLOYER: Address = '0x4e59b44847b379578588920ca78fbf26c0b4956c'

let node: NodeHandle
let chain: ReturnType<typeof makeChain>
let pub: PublicClient
const accounts: PrivateKeyAccount[] = DEV_KEYS.map((k) => privateKeyToAccount(k))

function makeChain(rpcUrl: string, wsUrl: string) {
  return defineChain({
    id: DEV_CHAIN_ID,
    name: 'megaeth-dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl], webSocket: [wsUrl] } },
  })
}

function wallet(account: PrivateKeyAccount) {
  return createWalletClient({ account, chain, transport: http(node.rpcUrl), pollingInterval: 50 })
}

function randomAddress(): Address {
  return privateKeyToAccount(generatePrivateKey()).address
}

/** Waits until the EVM block holding `receipt` is sealed; returns the receipt as served then. */
async function sealedReceipt(hash: Hash): Promise<TransactionReceipt> {
  return waitFor(
    `sealed receipt of ${hash}`,
    async () => {
      const r = await pub.getTransactionReceipt({ hash })
      // Until its EVM block seals, a receipt's blockHash is the placeholder (the zero-padded block number).
      return unsealedBlockNumber(r.blockHash) !== undefined ? undefined : r
    },
    10_000,
    100,
  )
}

/** Finds the viem error in a thrown chain of the given class. */
function walkTo<T>(error: unknown, ctor: new (...a: never[]) => T): T | undefined {
  if (!(error instanceof BaseError)) return undefined
  const found = error.walk((e) => e instanceof ctor)
  return (found ?? undefined) as T | undefined
}

before(async () => {
  contract('Token') // compile before the node starts eating the CPU
  node = await startNode()
  chain = makeChain(node.rpcUrl, node.wsUrl)
  pub = createPublicClient({ chain, transport: http(node.rpcUrl), pollingInterval: 50 }) as PublicClient
})

after(async () => {
  await node?.stop()
})

describe('chain basics', { timeout: 60_000 }, () => {
  test('chain id, node info, sealed blocks advance with an EIP-1559 base fee', async () => {
    assert.equal(await pub.getChainId(), DEV_CHAIN_ID)
    const info = await rpc<Record<string, unknown>>(node.rpcUrl, 'mega_nodeInfo')
    assert.equal(info['chainId'], '0x18c6')
    assert.equal(info['role'], 'sequencer')
    const first = await pub.getBlockNumber({ cacheTime: 0 })
    const block = await pub.getBlock({ blockTag: 'latest' })
    assert.equal(typeof block.baseFeePerGas, 'bigint', 'latest block has baseFeePerGas (EIP-1559 detection)')
    assert.ok(block.hash !== null, 'block.hash !== null')
    await waitFor('a new sealed block', async () => (await pub.getBlockNumber({ cacheTime: 0 })) > first, 5_000, 100)
    const byHash = await pub.getBlock({ blockHash: block.hash! })
    assert.equal(byHash.number, block.number)
    assert.equal(byHash.stateRoot, block.stateRoot)
    const pending = await pub.getBlock({ blockTag: 'pending' })
    assert.equal(pending.hash, null)
    assert.ok(pending.number! > block.number, 'pending is above latest')
    // One sequencer, no reorgs: safe and finalized are the sealed head; earliest is genesis.
    for (const blockTag of ['safe', 'finalized'] as const) {
      const [tagged, latest] = await Promise.all([pub.getBlock({ blockTag }), pub.getBlock({ blockTag: 'latest' })])
      assert.ok(
        tagged.number === latest.number || tagged.number + 1n === latest.number || tagged.number === latest.number + 1n,
        `${blockTag} (${tagged.number}) is the sealed head (${latest.number})`,
      )
    }
    assert.equal((await pub.getBlock({ blockTag: 'earliest' })).number, 0n)
  })
})

describe('transfers', { timeout: 60_000 }, () => {
  test('balances are exact to the wei, fee = gasUsed × effectiveGasPrice (waitForTransactionReceipt)', async () => {
    const sender = accounts[1]!
    const to = randomAddress()
    const value = parseEther('1.234567891234567891')
    const before = await pub.getBalance({ address: sender.address })
    const hash = await wallet(sender).sendTransaction({ to, value })
    const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })
    assert.equal(receipt.status, 'success')
    assert.equal(receipt.gasUsed, 21_000n)
    assert.equal(receipt.from, sender.address.toLowerCase())
    assert.equal(receipt.to, to.toLowerCase())
    const after = await pub.getBalance({ address: sender.address })
    assert.equal(after, before - value - receipt.gasUsed * receipt.effectiveGasPrice)
    assert.equal(await pub.getBalance({ address: to }), value)

    const tx = await pub.getTransaction({ hash })
    assert.equal(tx.value, value)
    assert.equal(tx.from, sender.address.toLowerCase())
    assert.equal(tx.type, 'eip1559')

    // Once sealed, the receipt carries the block hash and the block lists the tx.
    const sealed = await sealedReceipt(hash)
    const block = await pub.getBlock({ blockHash: sealed.blockHash, includeTransactions: false })
    assert.equal(block.number, sealed.blockNumber)
    assert.ok(block.transactions.includes(hash), 'block.transactions.includes(hash)')
    assert.equal(sealed.gasUsed, receipt.gasUsed)
    assert.equal(sealed.transactionIndex, receipt.transactionIndex)
    // The sealed-block balance agrees with the realtime one.
    assert.equal(await pub.getBalance({ address: to, blockNumber: sealed.blockNumber }), value)
  })

  test('sendTransactionSync (eth_sendRawTransactionSync) returns the receipt; the state read right after reflects it', async () => {
    const sender = accounts[2]!
    const to = randomAddress()
    const value = 123_456_789n
    const before = await pub.getBalance({ address: sender.address })
    const receipt = await wallet(sender).sendTransactionSync({ to, value })
    assert.equal(receipt.status, 'success')
    assert.match(receipt.transactionHash, /^0x[0-9a-f]{64}$/)
    assert.equal(receipt.gasUsed, 21_000n)
    assert.equal(typeof receipt.blockNumber, 'bigint')
    // Read-your-write: `latest` is the newest mini-block.
    assert.equal(await pub.getBalance({ address: to }), value)
    assert.equal(await pub.getBalance({ address: sender.address }), before - value - receipt.gasUsed * receipt.effectiveGasPrice)
    const polled = await pub.getTransactionReceipt({ hash: receipt.transactionHash })
    assert.equal(polled.status, 'success')
    assert.equal(polled.blockNumber, receipt.blockNumber)
  })
})

describe('ERC-20 contract', { timeout: 60_000 }, () => {
  let token: Address
  const { abi, bytecode } = {
    get abi() {
      return contract('Token').abi
    },
    get bytecode() {
      return contract('Token').bytecode
    },
  }
  const supply = 1_000_000n * 10n ** 18n
  const owner = accounts[0]!
  const spender = accounts[3]!

  before(async () => {
    const hash = await wallet(owner).deployContract({ abi, bytecode, args: ['Test Token', 'TT', supply] })
    const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })
    assert.equal(receipt.status, 'success')
    assert.ok(receipt.contractAddress, 'deploy receipt has contractAddress')
    assert.equal(
      receipt.contractAddress,
      getContractAddress({ from: owner.address, nonce: BigInt((await pub.getTransaction({ hash })).nonce) }).toLowerCase(),
    )
    token = receipt.contractAddress
  })

  test('reads: name, symbol, decimals, totalSupply, balanceOf; code is the runtime bytecode', async () => {
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'name' }), 'Test Token')
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'symbol' }), 'TT')
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'decimals' }), 18)
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'totalSupply' }), supply)
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'balanceOf', args: [owner.address] }), supply)
    assert.equal(await pub.getCode({ address: token }), contract('Token').deployedBytecode)
  })

  test('transfer, approve, transferFrom: events decode, balances and allowance update', async () => {
    const to = randomAddress()
    const w = wallet(owner)
    const hash = await w.writeContract({ address: token, abi, functionName: 'transfer', args: [to, 1_000n] })
    const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })
    assert.equal(receipt.status, 'success')
    const [transfer] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Transfer' })
    assert.ok(transfer, 'transfer')
    assert.deepEqual(transfer.args, { from: owner.address, to, value: 1_000n })
    assert.equal(transfer.address, token.toLowerCase())
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'balanceOf', args: [to] }), 1_000n)

    const approve = await pub.waitForTransactionReceipt({
      hash: await w.writeContract({ address: token, abi, functionName: 'approve', args: [spender.address, 500n] }),
      timeout: 10_000,
    })
    const [approval] = parseEventLogs({ abi, logs: approve.logs, eventName: 'Approval' })
    assert.deepEqual(approval?.args, { owner: owner.address, spender: spender.address, value: 500n })
    const pulled = await wallet(spender).writeContractSync({
      address: token,
      abi,
      functionName: 'transferFrom',
      args: [owner.address, to, 300n],
    })
    assert.equal(pulled.status, 'success')
    assert.equal(
      await pub.readContract({ address: token, abi, functionName: 'allowance', args: [owner.address, spender.address] }),
      200n,
    )
    assert.equal(await pub.readContract({ address: token, abi, functionName: 'balanceOf', args: [to] }), 1_300n)
  })

  test('estimateGas: 21000 for a plain transfer; a contract call estimate suffices and is close to gasUsed', async () => {
    assert.equal(await pub.estimateGas({ account: owner, to: randomAddress(), value: 1n }), 21_000n)
    const to = randomAddress()
    const estimate = await pub.estimateContractGas({
      address: token,
      abi,
      functionName: 'transfer',
      args: [to, 5n],
      account: owner,
    })
    const hash = await wallet(owner).writeContract({
      address: token,
      abi,
      functionName: 'transfer',
      args: [to, 5n],
      gas: estimate,
    })
    const receipt = await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })
    assert.equal(receipt.status, 'success')
    assert.ok(estimate >= receipt.gasUsed, `estimate ${estimate} < gasUsed ${receipt.gasUsed}`)
    // geth's binary search stops within 1.5 %; the 63/64 rule and refunds add a little more.
    assert.ok(estimate <= (receipt.gasUsed * 120n) / 100n, `estimate ${estimate} is far above gasUsed ${receipt.gasUsed}`)
  })

  test('eth_createAccessList lists the token and both balance slots', async () => {
    const to = randomAddress()
    const result = await pub.createAccessList({
      account: owner,
      to: token,
      data: encodeFunctionData({ abi, functionName: 'transfer', args: [to, 1n] }),
    })
    const entry = result.accessList.find((e) => e.address.toLowerCase() === token.toLowerCase())
    assert.ok(entry !== undefined, 'the token is in the access list')
    assert.ok(entry.storageKeys.length >= 2, 'both balance slots are in the access list')
    assert.ok(result.gasUsed > 21_000n, 'gasUsed reported')
  })

  test('a reverting estimate surfaces the revert reason', async () => {
    await assert.rejects(
      pub.estimateContractGas({
        address: token,
        abi,
        functionName: 'transfer',
        args: [randomAddress(), supply * 10n],
        account: spender,
      }),
      (error: unknown) => {
        assert.ok(error instanceof BaseError, 'error instanceof BaseError')
        assert.match(error.message, /ERC20: transfer amount exceeds balance/)
        return true
      },
    )
  })

  test('getLogs, getContractEvents, event filters and watchContractEvent see Transfer events', async () => {
    const to = randomAddress()
    // Poll-based watcher (HTTP transport → eth_newFilter + eth_getFilterChanges).
    const seen: Log[] = []
    const unwatch = pub.watchContractEvent({
      address: token,
      abi,
      eventName: 'Transfer',
      args: { to } as never,
      pollingInterval: 50,
      onLogs: (logs) => seen.push(...logs),
    })
    const filter = await pub.createContractEventFilter({ address: token, abi, eventName: 'Transfer', args: { to } as never })
    // Let the watcher install its filter before the event happens.
    await sleep(300)
    try {
      const hash = await wallet(owner).writeContract({ address: token, abi, functionName: 'transfer', args: [to, 77n] })
      await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })
      await waitFor('watchContractEvent to deliver the Transfer', () => seen.length > 0, 10_000)
      assert.equal(seen.length, 1)
      const watched = seen[0] as Log & { args: { value: bigint; to: Address } }
      assert.equal(watched.transactionHash, hash)
      assert.equal(watched.args.value, 77n)

      const changes = await pub.getFilterChanges({ filter })
      assert.equal(changes.length, 1)
      assert.equal((changes[0] as unknown as { args: { value: bigint } }).args.value, 77n)

      const sealed = await sealedReceipt(hash)
      const logs = (await pub.getLogs({
        address: token,
        event: abi.find((x) => x.type === 'event' && x.name === 'Transfer') as never,
        args: { to } as never,
        fromBlock: sealed.blockNumber,
        toBlock: sealed.blockNumber,
      })) as unknown as Log[]
      assert.equal(logs.length, 1)
      const log = logs[0]!
      assert.equal(log.transactionHash, hash)
      assert.equal(log.blockHash, sealed.blockHash)
      assert.equal(log.blockNumber, sealed.blockNumber)
      assert.equal(log.logIndex, sealed.logs[0]!.logIndex)
      assert.deepEqual((log as unknown as { args: unknown }).args, { from: owner.address, to, value: 77n })

      const byHash = await pub.getLogs({ address: token, blockHash: sealed.blockHash })
      assert.ok(
        byHash.some((l) => l.transactionHash === hash),
        'eth_getLogs by blockHash finds it',
      )
      const events = await pub.getContractEvents({
        address: token,
        abi,
        eventName: 'Transfer',
        fromBlock: sealed.blockNumber,
        toBlock: sealed.blockNumber,
      })
      assert.ok(
        events.some((e) => e.transactionHash === hash),
        'events.some((e) => e.transactionHash === hash)',
      )
      // Filter logs (eth_getFilterLogs) include it too.
      const filterLogs = await pub.getFilterLogs({ filter })
      assert.ok(
        filterLogs.some((e) => e.transactionHash === hash),
        'filterLogs.some((e) => e.transactionHash === hash)',
      )
    } finally {
      unwatch()
      await pub.uninstallFilter({ filter })
    }
  })

  test('logs subscription with fromBlock/toBlock = pending streams logs as mini-blocks land', async () => {
    const ws = await WsRpc.connect(node.wsUrl)
    try {
      const to = randomAddress()
      const toTopic = pad(to.toLowerCase() as Hex, { size: 32 })
      const sub = await ws.subscribe([
        'logs',
        { address: token, topics: [null, null, toTopic], fromBlock: 'pending', toBlock: 'pending' },
      ])
      // The standard logs subscription: delivered once the EVM block is sealed, with its hash.
      const sealedSub = await ws.subscribe(['logs', { address: token, topics: [null, null, toTopic] }])
      const pendingTxs = await ws.subscribe(['newPendingTransactions'])
      const receipt = await wallet(owner).writeContractSync({ address: token, abi, functionName: 'transfer', args: [to, 9n] })
      const logs = (await waitFor(
        'realtime log',
        () => (ws.resultsOf(sub).length > 0 ? ws.resultsOf(sub) : undefined),
        5_000,
      )) as Array<Record<string, unknown>>
      assert.equal(logs.length, 1)
      assert.equal(logs[0]!['transactionHash'], receipt.transactionHash)
      assert.equal((logs[0]!['address'] as string).toLowerCase(), token.toLowerCase())
      assert.equal(hexToBigInt(logs[0]!['data'] as Hex), 9n)
      const sealedLogs = (await waitFor(
        'sealed log',
        () => (ws.resultsOf(sealedSub).length > 0 ? ws.resultsOf(sealedSub) : undefined),
        5_000,
      )) as Array<Record<string, unknown>>
      assert.equal(sealedLogs.length, 1)
      assert.equal(sealedLogs[0]!['transactionHash'], receipt.transactionHash)
      const sealed = await sealedReceipt(receipt.transactionHash)
      assert.equal(sealedLogs[0]!['blockHash'], sealed.blockHash, 'the sealed logs subscription carries the block hash')
      assert.ok(ws.resultsOf(pendingTxs).includes(receipt.transactionHash), 'newPendingTransactions saw the tx hash')
    } finally {
      await ws.close()
    }
  })

  test('eth_getProof: the account proof verifies against the block stateRoot; a storage proof against storageHash', async () => {
    // Proofs are served for the newest sealed block: retry if a block seals in between.
    const slot = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [owner.address, 3n])) // balanceOf is slot 3
    const { proof, eoa, block } = await waitFor(
      'proofs at the head',
      async () => {
        const head = await pub.getBlock({ blockTag: 'latest' })
        try {
          const [proof, eoa] = await Promise.all([
            pub.getProof({ address: token, storageKeys: [slot], blockNumber: head.number }),
            pub.getProof({ address: owner.address, storageKeys: [], blockNumber: head.number }),
          ])
          return { proof, eoa, block: head }
        } catch {
          return undefined
        }
      },
      10_000,
      20,
    )
    const value = await verifyMerkleProof(
      hexToBytes(token),
      proof.accountProof.map((n) => hexToBytes(n)),
      { root: hexToBytes(block.stateRoot), useKeyHashing: true },
    )
    assert.ok(value !== null, 'account exists in the trie')
    const [nonce, balance, storageRoot, codeHash] = fromRlp(toHex(value), 'hex') as Hex[]
    assert.equal(hexToBigInt(nonce! === '0x' ? '0x0' : nonce!), BigInt(proof.nonce))
    assert.equal(hexToBigInt(balance! === '0x' ? '0x0' : balance!), proof.balance)
    assert.equal(storageRoot, proof.storageHash)
    assert.equal(codeHash, proof.codeHash)
    assert.equal(codeHash, keccak256(contract('Token').deployedBytecode))

    const storage = proof.storageProof[0]!
    const proven = await verifyMerkleProof(
      hexToBytes(slot),
      storage.proof.map((n) => hexToBytes(n)),
      { root: hexToBytes(proof.storageHash), useKeyHashing: true },
    )
    assert.ok(proven !== null, 'proven !== null')
    const provenValue = hexToBigInt(fromRlp(toHex(proven), 'hex') as Hex)
    assert.equal(provenValue, storage.value)
    assert.equal(provenValue, hexToBigInt((await pub.getStorageAt({ address: token, slot, blockNumber: block.number })) as Hex))
    assert.equal(
      provenValue,
      await pub.readContract({
        address: token,
        abi,
        functionName: 'balanceOf',
        args: [owner.address],
        blockNumber: block.number,
      }),
    )

    // An EOA's proof too (storageHash = empty trie root, codeHash = keccak of nothing).
    const acct = await verifyMerkleProof(
      hexToBytes(owner.address),
      eoa.accountProof.map((n) => hexToBytes(n)),
      { root: hexToBytes(block.stateRoot), useKeyHashing: true },
    )
    assert.ok(acct !== null, 'the EOA exists in the trie')
    const [, eoaBalance, eoaStorageRoot] = fromRlp(toHex(acct), 'hex') as Hex[]
    assert.equal(hexToBigInt(eoaBalance!), eoa.balance)
    assert.equal(eoa.balance, await pub.getBalance({ address: owner.address, blockNumber: block.number }))
    assert.equal(eoaStorageRoot, '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421')
    assert.equal(eoa.codeHash, keccak256('0x'))
    // A proof for a block older than the retained history is refused (-32000) rather than wrong.
    const old = await rpcRaw(node.rpcUrl, 'eth_getProof', [owner.address, [], '0x1'])
    if (old.error !== undefined) assert.equal(old.error.code, -32000)
  })
})

describe('reverts', { timeout: 60_000 }, () => {
  let reverter: Address
  const abi = () => contract('Reverter').abi

  before(async () => {
    const hash = await wallet(accounts[0]!).deployContract({ abi: abi(), bytecode: contract('Reverter').bytecode })
    reverter = (await pub.waitForTransactionReceipt({ hash, timeout: 10_000 })).contractAddress!
    assert.equal(await pub.readContract({ address: reverter, abi: abi(), functionName: 'ok' }), 42n)
  })

  test('revert with a reason string: viem message has the reason; raw error is code 3 with Error(string) data', async () => {
    await assert.rejects(
      pub.readContract({ address: reverter, abi: abi(), functionName: 'revertWithReason' }),
      (error: unknown) => {
        assert.ok(error instanceof BaseError, 'error instanceof BaseError')
        assert.match(error.message, /Reverter: nope/)
        const reverted = walkTo(error, ContractFunctionRevertedError)
        assert.ok(reverted, 'a ContractFunctionRevertedError is in the chain')
        assert.equal(reverted.reason, 'Reverter: nope')
        return true
      },
    )
    const err = await rpcError(node.rpcUrl, 'eth_call', [
      { to: reverter, data: encodeFunctionData({ abi: abi(), functionName: 'revertWithReason' }) },
      'latest',
    ])
    assert.equal(err.code, 3)
    assert.equal(err.message, 'execution reverted: Reverter: nope')
    const decoded = decodeErrorResult({ abi: abi(), data: err.data as Hex })
    assert.equal(decoded.errorName, 'Error')
    assert.deepEqual(decoded.args, ['Reverter: nope'])
  })

  test('require with a reason', async () => {
    await assert.rejects(
      pub.readContract({ address: reverter, abi: abi(), functionName: 'requireAbove', args: [3n] }),
      (error: unknown) => {
        assert.equal(walkTo(error, ContractFunctionRevertedError)?.reason, 'Reverter: x must exceed 10')
        return true
      },
    )
    assert.equal(await pub.readContract({ address: reverter, abi: abi(), functionName: 'requireAbove', args: [11n] }), 11n)
  })

  test('custom error decodes with its arguments', async () => {
    const caller = accounts[4]!.address
    await assert.rejects(
      pub.readContract({ address: reverter, abi: abi(), functionName: 'revertCustom', args: [7n], account: caller }),
      (error: unknown) => {
        const reverted = walkTo(error, ContractFunctionRevertedError)
        assert.ok(reverted, 'reverted')
        assert.equal(reverted.data?.errorName, 'Unauthorized')
        assert.deepEqual(reverted.data?.args, [caller, 7n])
        assert.match((error as Error).message, /Unauthorized/)
        return true
      },
    )
    const err = await rpcError(node.rpcUrl, 'eth_call', [
      { from: caller, to: reverter, data: encodeFunctionData({ abi: abi(), functionName: 'revertCustom', args: [7n] }) },
    ])
    assert.equal(err.code, 3)
    assert.equal(err.message, 'execution reverted')
    const decoded = decodeErrorResult({ abi: abi(), data: err.data as Hex })
    assert.equal(decoded.errorName, 'Unauthorized')
    assert.deepEqual(decoded.args, [caller, 7n])
  })

  test('panics: assert(false) → Panic(0x01), division by zero → Panic(0x12); empty revert', async () => {
    await assert.rejects(pub.readContract({ address: reverter, abi: abi(), functionName: 'assertFail' }), (error: unknown) => {
      const reverted = walkTo(error, ContractFunctionRevertedError)
      assert.equal(reverted?.data?.errorName, 'Panic')
      assert.deepEqual(reverted?.data?.args, [1n])
      return true
    })
    await assert.rejects(
      pub.readContract({ address: reverter, abi: abi(), functionName: 'divide', args: [1n, 0n] }),
      (error: unknown) => {
        const reverted = walkTo(error, ContractFunctionRevertedError)
        assert.equal(reverted?.data?.errorName, 'Panic')
        assert.deepEqual(reverted?.data?.args, [0x12n])
        return true
      },
    )
    assert.equal(await pub.readContract({ address: reverter, abi: abi(), functionName: 'divide', args: [10n, 2n] }), 5n)
    const err = await rpcError(node.rpcUrl, 'eth_call', [
      { to: reverter, data: encodeFunctionData({ abi: abi(), functionName: 'revertEmpty' }) },
      'latest',
    ])
    assert.equal(err.code, 3)
    assert.equal(err.message, 'execution reverted')
    assert.equal(err.data, '0x')
  })

  test('a reverting transaction is included with status reverted, its state and logs rolled back', async () => {
    const sender = accounts[4]!
    const receipt = await wallet(sender).writeContractSync({
      address: reverter,
      abi: abi(),
      functionName: 'store',
      args: [99n, true],
      gas: 100_000n,
    })
    assert.equal(receipt.status, 'reverted')
    assert.equal(receipt.logs.length, 0)
    assert.ok(receipt.gasUsed > 21_000n && receipt.gasUsed < 100_000n, 'receipt.gasUsed > 21_000n && receipt.gasUsed < 100_000n')
    assert.equal(await pub.readContract({ address: reverter, abi: abi(), functionName: 'value' }), 0n)
    const ok = await wallet(sender).writeContractSync({ address: reverter, abi: abi(), functionName: 'store', args: [5n, false] })
    assert.equal(ok.status, 'success')
    assert.equal(ok.logs.length, 1)
    assert.equal(await pub.readContract({ address: reverter, abi: abi(), functionName: 'value' }), 5n)
  })
})

describe('contracts see the EVM block they land in', { timeout: 60_000 }, () => {
  test('Counter: block.number / block.timestamp seen by the tx match the receipt and the sealed block', async () => {
    const { abi, bytecode } = contract('Counter')
    const w = wallet(accounts[5]!)
    const deployed = await pub.waitForTransactionReceipt({ hash: await w.deployContract({ abi, bytecode }), timeout: 10_000 })
    const counter = deployed.contractAddress!
    const receipt = await w.writeContractSync({ address: counter, abi, functionName: 'increment' })
    const [event] = parseEventLogs({ abi, logs: receipt.logs, eventName: 'Incremented' }) as unknown as Array<{
      args: { newCount: bigint; blockNumber: bigint; timestamp: bigint }
    }>
    assert.ok(event, 'event')
    assert.equal(event.args.newCount, 1n)
    assert.equal(event.args.blockNumber, receipt.blockNumber)
    const sealed = await sealedReceipt(receipt.transactionHash)
    const block = await pub.getBlock({ blockNumber: sealed.blockNumber })
    assert.equal(event.args.timestamp, block.timestamp)
    assert.equal(await pub.readContract({ address: counter, abi, functionName: 'count' }), 1n)
    const [number, , chainId, baseFee, coinbase] = (await pub.readContract({
      address: counter,
      abi,
      functionName: 'env',
    })) as readonly [bigint, bigint, bigint, bigint, Address]
    assert.equal(chainId, BigInt(DEV_CHAIN_ID))
    assert.ok(number >= sealed.blockNumber, `eth_call's block.number ${number} is at least the tx's block ${sealed.blockNumber}`)
    // As geth: a call without a gas price runs with BASEFEE 0 (so fee-cap < base-fee cannot fail it).
    assert.equal(baseFee, 0n)
    assert.equal(coinbase.toLowerCase(), block.miner.toLowerCase())
  })

  test('the deterministic deployer (0x4e59…956c) deploys via CREATE2 to the predicted address', async () => {
    const { bytecode, deployedBytecode } = contract('Counter')
    const salt = keccak256(toHex(`salt-${Date.now()}`))
    const predicted = getContractAddress({ opcode: 'CREATE2', from: DETERMINISTIC_DEPLOYER, salt, bytecode })
    assert.notEqual(await pub.getCode({ address: DETERMINISTIC_DEPLOYER }), undefined, 'deployer is predeployed')
    const data = concat([salt, bytecode])
    const { data: returned } = await pub.call({ account: accounts[6]!.address, to: DETERMINISTIC_DEPLOYER, data })
    assert.equal(returned?.toLowerCase(), predicted.toLowerCase(), 'eth_call returns the address it would deploy to')
    const receipt = await wallet(accounts[6]!).sendTransactionSync({ to: DETERMINISTIC_DEPLOYER, data })
    assert.equal(receipt.status, 'success')
    assert.equal(await pub.getCode({ address: predicted }), deployedBytecode)
  })
})

describe('fees', { timeout: 60_000 }, () => {
  test('eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory (viem and Hardhat-style)', async () => {
    const history = await pub.getFeeHistory({ blockCount: 4, rewardPercentiles: [25, 75] })
    assert.equal(history.baseFeePerGas.length, 5, 'blockCount + 1 base fees')
    assert.equal(history.gasUsedRatio.length, 4)
    assert.equal(history.reward?.length, 4)
    for (const r of history.reward ?? []) assert.equal(r.length, 2)
    const head = await pub.getBlock({ blockTag: 'latest' })
    assert.ok(
      history.oldestBlock >= head.number - 4n && history.oldestBlock <= head.number,
      'history.oldestBlock >= head.number - 4n && history.oldestBlock <= head.number',
    )
    const nextBaseFee = history.baseFeePerGas[4]!
    const gasPrice = await pub.getGasPrice()
    assert.equal(gasPrice, nextBaseFee + nextBaseFee / 4n)
    assert.equal(await pub.estimateMaxPriorityFeePerGas(), 0n)
    assert.equal(await rpc(node.rpcUrl, 'eth_maxPriorityFeePerGas'), '0x0')
    const fees = await pub.estimateFeesPerGas()
    assert.ok(fees.maxFeePerGas >= nextBaseFee, 'fees.maxFeePerGas >= nextBaseFee')

    const hardhat = await rpc<{ baseFeePerGas: Hex[]; oldestBlock: Hex }>(node.rpcUrl, 'eth_feeHistory', ['0x1', 'latest', [50]])
    assert.equal(hardhat.baseFeePerGas.length, 2)
    const numeric = await rpc<{ baseFeePerGas: Hex[] }>(node.rpcUrl, 'eth_feeHistory', [2, 'latest'])
    assert.equal(numeric.baseFeePerGas.length, 3)
  })
})

describe('WebSocket', { timeout: 60_000 }, () => {
  test('viem watchBlocks over webSocket (eth_subscribe newHeads) sees consecutive sealed blocks', async () => {
    const wsClient = createPublicClient({ chain, transport: webSocket(node.wsUrl) })
    const blocks: Array<{ number: bigint; hash: Hash; miniBlockCount?: unknown }> = []
    const unwatch = wsClient.watchBlocks({ onBlock: (b) => blocks.push(b as never), onError: () => undefined })
    try {
      await waitFor('3 newHeads', () => blocks.length >= 3, 8_000, 50)
      for (let i = 1; i < blocks.length; i++) assert.equal(blocks[i]!.number, blocks[i - 1]!.number + 1n)
      const fromHttp = await pub.getBlock({ blockNumber: blocks[0]!.number })
      assert.equal(blocks[0]!.hash, fromHttp.hash)
      assert.ok('miniBlockCount' in blocks[0]!, 'newHeads carries MegaETH miniBlockCount')
      assert.equal(await wsClient.getChainId(), DEV_CHAIN_ID)
    } finally {
      unwatch()
      const rpcClient = await (wsClient.transport as unknown as { getRpcClient(): Promise<{ close(): void }> }).getRpcClient()
      rpcClient.close()
    }
  })

  test("raw eth_subscribe('miniBlocks'): consecutive mini_block_numbers, snake_case fields, every sent tx appears", async () => {
    const ws = await WsRpc.connect(node.wsUrl)
    try {
      const sub = await ws.subscribe(['miniBlocks'])
      const sender = accounts[7]!
      const w = wallet(sender)
      let nonce = await pub.getTransactionCount({ address: sender.address, blockTag: 'pending' })
      const sent: Hash[] = []
      for (let i = 0; i < 25; i++) {
        const raw = await w.signTransaction({
          to: randomAddress(),
          value: 1n,
          nonce: nonce++,
          gas: 21_000n,
          maxFeePerGas: 10_000_000_000n,
          maxPriorityFeePerGas: 0n,
        })
        sent.push(await rpc<Hash>(node.rpcUrl, 'eth_sendRawTransaction', [raw]))
        await sleep(7)
      }
      const want = new Set(sent)
      const seen = new Set<string>()
      await waitFor(
        'all sent txs in miniBlocks notifications',
        () => {
          for (const mb of ws.resultsOf(sub) as Array<{ receipts: Array<{ transactionHash: string }> }>)
            for (const r of mb.receipts) seen.add(r.transactionHash)
          return [...want].every((h) => seen.has(h)) && ws.resultsOf(sub).length >= 5
        },
        10_000,
      )
      const minis = ws.resultsOf(sub) as Array<Record<string, unknown>>
      for (const key of [
        'block_number',
        'block_timestamp',
        'index',
        'mini_block_number',
        'mini_block_timestamp',
        'gas_used',
        'transactions',
        'receipts',
      ]) {
        assert.ok(key in minis[0]!, `miniBlocks payload has ${key}`)
      }
      for (let i = 1; i < minis.length; i++) {
        const prev = minis[i - 1]!
        const cur = minis[i]!
        assert.equal(
          hexToBigInt(cur['mini_block_number'] as Hex),
          hexToBigInt(prev['mini_block_number'] as Hex) + 1n,
          'mini_block_number is consecutive',
        )
        assert.ok(
          hexToBigInt(cur['mini_block_timestamp'] as Hex) > hexToBigInt(prev['mini_block_timestamp'] as Hex),
          'µs timestamps increase',
        )
        const sameBlock = cur['block_number'] === prev['block_number']
        if (sameBlock) assert.equal(hexToBigInt(cur['index'] as Hex), hexToBigInt(prev['index'] as Hex) + 1n)
        else {
          assert.equal(hexToBigInt(cur['block_number'] as Hex), hexToBigInt(prev['block_number'] as Hex) + 1n)
          assert.equal(cur['index'], '0x0')
        }
        const txs = cur['transactions'] as Array<{ hash: string }>
        const receipts = cur['receipts'] as Array<{ transactionHash: string; gasUsed: Hex }>
        assert.equal(txs.length, receipts.length)
        txs.forEach((tx, j) => assert.equal(tx.hash, receipts[j]!.transactionHash))
        assert.equal(
          hexToBigInt(cur['gas_used'] as Hex),
          receipts.reduce((s, r) => s + hexToBigInt(r.gasUsed), 0n),
        )
      }
    } finally {
      await ws.close()
    }
  })

  test("eth_subscribe('stateChanges') reports a transfer's balance change", async () => {
    const ws = await WsRpc.connect(node.wsUrl)
    try {
      const to = randomAddress()
      const sub = await ws.subscribe(['stateChanges', [to]])
      const receipt = await wallet(accounts[8]!).sendTransactionSync({ to, value: 4242n })
      assert.equal(receipt.status, 'success')
      const changes = (await waitFor(
        'a state change',
        () => (ws.resultsOf(sub).length > 0 ? ws.resultsOf(sub) : undefined),
        5_000,
      )) as Array<Record<string, unknown>>
      assert.equal(changes.length, 1)
      assert.equal((changes[0]!['address'] as string).toLowerCase(), to.toLowerCase())
      assert.equal(hexToBigInt(changes[0]!['balance'] as Hex), 4242n)
      assert.equal(hexToBigInt(changes[0]!['nonce'] as Hex), 0n)
      assert.deepEqual(changes[0]!['storage'], {})
    } finally {
      await ws.close()
    }
  })
})

describe('realtime sends', { timeout: 60_000 }, () => {
  const sender = () => accounts[9]!
  async function signTransfer(account: PrivateKeyAccount, opts: { nonce?: number; value?: bigint } = {}): Promise<Hex> {
    const nonce = opts.nonce ?? (await pub.getTransactionCount({ address: account.address, blockTag: 'pending' }))
    return account.signTransaction({
      chainId: DEV_CHAIN_ID,
      type: 'eip1559',
      to: randomAddress(),
      value: opts.value ?? 1n,
      nonce,
      gas: 21_000n,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 0n,
    })
  }

  test('realtime_sendRawTransaction returns the receipt; eth_getTransactionReceipt has it right away', async () => {
    const raw = await signTransfer(sender())
    const receipt = await rpc<Record<string, unknown>>(node.rpcUrl, 'realtime_sendRawTransaction', [raw])
    assert.equal(receipt['transactionHash'], keccak256(raw))
    assert.equal(receipt['status'], '0x1')
    assert.equal(receipt['gasUsed'], '0x5208')
    const polled = await rpc<Record<string, unknown> | null>(node.rpcUrl, 'eth_getTransactionReceipt', [keccak256(raw)])
    assert.ok(polled !== null, 'polled !== null')
    assert.equal(polled['status'], '0x1')
  })

  test('eth_sendRawTransactionSync accepts a hex timeout and a numeric timeout', async () => {
    const hexRaw = await signTransfer(sender())
    const a = await rpc<Record<string, unknown>>(node.rpcUrl, 'eth_sendRawTransactionSync', [hexRaw, '0x1388'])
    assert.equal(a['transactionHash'], keccak256(hexRaw))
    assert.equal(a['status'], '0x1')
    const numRaw = await signTransfer(sender())
    const b = await rpc<Record<string, unknown>>(node.rpcUrl, 'eth_sendRawTransactionSync', [numRaw, 5000])
    assert.equal(b['transactionHash'], keccak256(numRaw))
    assert.equal(b['status'], '0x1')
    // Same shape as eth_getTransactionReceipt.
    const polled = await rpc<Record<string, unknown>>(node.rpcUrl, 'eth_getTransactionReceipt', [keccak256(numRaw)])
    assert.deepEqual(Object.keys(b).sort(), Object.keys(polled).sort())
  })

  test('eth_sendRawTransactionSync: code 4 with the tx hash when the wait times out (the tx still lands)', async () => {
    let timedOut: { hash: Hex; data: unknown } | undefined
    for (let i = 0; i < 5 && timedOut === undefined; i++) {
      const raw = await signTransfer(sender())
      const res = await rpcRaw(node.rpcUrl, 'eth_sendRawTransactionSync', [raw, 1])
      if (res.error !== undefined) {
        assert.equal(res.error.code, 4, res.error.message)
        timedOut = { hash: keccak256(raw), data: res.error.data }
      }
    }
    assert.ok(timedOut, 'a 1 ms wait timed out at least once in 5 tries')
    assert.equal(timedOut.data, timedOut.hash)
    const receipt = await waitFor(
      'the timed-out tx to land',
      () =>
        rpc<Record<string, unknown> | null>(node.rpcUrl, 'eth_getTransactionReceipt', [timedOut!.hash]).then(
          (r) => r ?? undefined,
        ),
      5_000,
    )
    assert.equal(receipt['status'], '0x1')
  })

  test('eth_sendRawTransactionSync: code 5 (not ready) for a nonce gap and for insufficient funds', async () => {
    // A dedicated account: the gapped tx stays queued in the pool.
    const gapped = accounts[19]!
    const next = await pub.getTransactionCount({ address: gapped.address, blockTag: 'pending' })
    const raw = await signTransfer(gapped, { nonce: next + 3 })
    const err = await rpcError(node.rpcUrl, 'eth_sendRawTransactionSync', [raw])
    assert.equal(err.code, 5, err.message)
    assert.equal(err.data, keccak256(raw))

    const broke = privateKeyToAccount(generatePrivateKey())
    const poor = await signTransfer(broke, { nonce: 0 })
    const err2 = await rpcError(node.rpcUrl, 'eth_sendRawTransactionSync', [poor])
    assert.equal(err2.code, 5, err2.message)
    assert.equal(err2.data, keccak256(poor))
    assert.match(err2.message, /insufficient funds/)

    // A submission failure is the normal eth_sendRawTransaction error, immediately.
    const err3 = await rpcError(node.rpcUrl, 'eth_sendRawTransactionSync', ['0xdeadbeef'])
    assert.equal(err3.code, -32000)
  })
})

describe('sealed blocks verify by Ethereum rules', { timeout: 60_000 }, () => {
  test('every block so far: hash = keccak(rlp(header)), transactionsRoot, receiptsRoot and logsBloom recompute', async () => {
    // Make sure the last block has a few typed txs with logs.
    const w = wallet(accounts[10]!)
    const legacy = await w.sendTransaction({ to: randomAddress(), value: 3n, type: 'legacy' })
    const last = await w.sendTransactionSync({
      to: randomAddress(),
      value: 4n,
      type: 'eip2930',
      accessList: [{ address: randomAddress(), storageKeys: [pad('0x01', { size: 32 })] }],
    })
    await sealedReceipt(legacy)
    const sealedLast = await sealedReceipt(last.transactionHash)
    const head = sealedLast.blockNumber
    let checkedTxs = 0
    for (let n = 0n; n <= head; n++) {
      const block = await rpc<Record<string, unknown> & { transactions: Array<{ hash: Hash }> }>(
        node.rpcUrl,
        'eth_getBlockByNumber',
        [toHex(n), true],
      )
      const q = (field: string): Hex => (hexToBigInt(block[field] as Hex) === 0n ? '0x' : toHex(hexToBigInt(block[field] as Hex)))
      const header = [
        block['parentHash'],
        block['sha3Uncles'],
        block['miner'],
        block['stateRoot'],
        block['transactionsRoot'],
        block['receiptsRoot'],
        block['logsBloom'],
        q('difficulty'),
        q('number'),
        q('gasLimit'),
        q('gasUsed'),
        q('timestamp'),
        block['extraData'],
        block['mixHash'],
        block['nonce'],
        q('baseFeePerGas'),
        block['withdrawalsRoot'],
        q('blobGasUsed'),
        q('excessBlobGas'),
        block['parentBeaconBlockRoot'],
      ] as Hex[]
      // The dev chain runs Osaka: Prague headers end with the EIP-7685 requests hash (of no requests).
      assert.equal(
        block['requestsHash'],
        '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        `block ${n}: requestsHash of the empty request list`,
      )
      header.push(block['requestsHash'] as Hex)
      assert.equal(keccak256(toRlp(header)), block['hash'], `block ${n}: hash is keccak256(rlp(header))`)

      const txTrie = new MerklePatriciaTrie()
      const receiptTrie = new MerklePatriciaTrie()
      const receipts = await rpc<
        Array<{
          type: Hex
          status: Hex
          cumulativeGasUsed: Hex
          logsBloom: Hex
          logs: Array<{ address: Hex; topics: Hex[]; data: Hex }>
        }>
      >(node.rpcUrl, 'eth_getBlockReceipts', [toHex(n)])
      assert.equal(receipts.length, block.transactions.length, `block ${n}: one receipt per tx`)
      let bloom = 0n
      for (let i = 0; i < block.transactions.length; i++) {
        const key = hexToBytes(toRlp(i === 0 ? '0x' : toHex(i)))
        const raw = await rpc<Hex>(node.rpcUrl, 'eth_getRawTransactionByHash', [block.transactions[i]!.hash])
        assert.equal(keccak256(raw), block.transactions[i]!.hash)
        await txTrie.put(key, hexToBytes(raw))
        const r = receipts[i]!
        const body = toRlp([
          r.status === '0x1' ? '0x01' : '0x',
          toHex(hexToBigInt(r.cumulativeGasUsed)),
          r.logsBloom,
          r.logs.map((l) => [l.address, l.topics, l.data]),
        ] as never)
        await receiptTrie.put(key, hexToBytes(r.type === '0x0' ? body : concat([toHex(hexToBigInt(r.type), { size: 1 }), body])))
        bloom |= hexToBigInt(r.logsBloom)
        checkedTxs++
      }
      assert.equal(toHex(txTrie.root()), block['transactionsRoot'], `block ${n}: transactionsRoot`)
      assert.equal(toHex(receiptTrie.root()), block['receiptsRoot'], `block ${n}: receiptsRoot`)
      assert.equal(bloom, hexToBigInt(block['logsBloom'] as Hex), `block ${n}: logsBloom is the OR of the receipts' blooms`)
    }
    assert.ok(checkedTxs >= 20, `checked ${checkedTxs} txs`)
  })
})
